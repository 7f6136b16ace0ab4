"""The hit list's paginator: a planner's estimate instead of COUNT(*) at millions of hits."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property

from lambdactr_django.stats.counting import EXACT_BELOW, planned_rows


class EstimatedCountPaginator(Paginator):  # type: ignore[type-arg]
    """A paginator that asks PostgreSQL's planner how many hits there are, when many.

    The list's count is an exact COUNT(*) of every matching hit, read on every
    page; on a table of millions that is the slowest query of the page. Where
    the planner expects at least ``exact_below`` rows, its estimate is the
    count, and ``estimated`` is True; below that, and on other databases, the
    count is exact.
    """

    exact_below = EXACT_BELOW

    estimated = False

    @cached_property
    def count(self) -> int:
        estimate = planned_rows(self.object_list)
        if estimate is None or estimate < self.exact_below:
            return super().count
        self.estimated = True
        return estimate

    @property
    def rounded_count(self) -> str:
        """The count with three significant figures, for "about ..."."""
        count = int(float(f"{self.count:.3g}"))
        return f"{count:,}"
