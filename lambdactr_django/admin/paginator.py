"""The hit list's paginator: a planner's estimate instead of COUNT(*) at millions of hits."""

from __future__ import annotations

import json
from typing import Any

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property


class EstimatedCountPaginator(Paginator):  # type: ignore[type-arg]
    """A paginator that asks PostgreSQL's planner how many hits there are, when many.

    The list's count is an exact COUNT(*) of every matching hit, read on every
    page; on a table of millions that is the slowest query of the page. Where
    the planner expects at least ``exact_below`` rows, its estimate is the
    count, and ``estimated`` is True; below that, and on other databases, the
    count is exact.
    """

    exact_below = 100_000

    estimated = False

    @cached_property
    def count(self) -> int:
        estimate = _planned_rows(self.object_list)
        if estimate is None or estimate < self.exact_below:
            return super().count
        self.estimated = True
        return estimate

    @property
    def rounded_count(self) -> str:
        """The count with three significant figures, for "about ..."."""
        count = int(float(f"{self.count:.3g}"))
        return f"{count:,}"


def _planned_rows(queryset: Any) -> int | None:
    if not isinstance(queryset, QuerySet):
        return None
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str | bytes):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
