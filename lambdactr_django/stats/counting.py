"""How many hits, cheaply: the planner's estimate where an exact count is slow, and
what the default filters leave out, so that nothing is hidden without a word."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import QuerySet

from lambdactr_django.models import HeaderHit
from lambdactr_django.stats.reports import class_totals
from lambdactr_django.stats.traffic import Traffic, of_traffic

# From this many planned rows up, PostgreSQL's estimate stands in for COUNT(*).
EXACT_BELOW = 100_000
# The same for what the default filters leave out, which every page of the hit
# list says: counted exactly only while that is a few milliseconds' work (at
# 10 million hits an exact count of one site's bots for 30 days made the list
# 10-20 times slower than at 100,000).
HIDDEN_EXACT_BELOW = 10_000


def planned_rows(queryset: Any) -> int | None:
    """The rows PostgreSQL's planner expects ``queryset`` to return; None elsewhere."""
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


def count_about(queryset: QuerySet[HeaderHit], exact_below: int = EXACT_BELOW) -> tuple[int, bool]:
    """The number of hits and whether it is an estimate."""
    estimate = planned_rows(queryset)
    if estimate is None or estimate < exact_below:
        return queryset.count(), False
    return estimate, True


@dataclass(frozen=True, slots=True)
class Hidden:
    what: str
    count: int
    estimated: bool
    # The hit list's filter that leaves them out.
    by: str


def hidden(everything: QuerySet[HeaderHit], traffic: str, verified: bool | None) -> list[Hidden]:
    """The hits of ``everything`` (every traffic class, every signature) that a view
    of ``traffic`` and ``verified`` leaves out, by why; each hit is counted once."""
    shown_signature = everything if verified is None else everything.filter(verified=verified)
    parts: list[tuple[str, QuerySet[HeaderHit], str]] = []
    if traffic != Traffic.ALL:
        parts += [
            (Traffic.LABELS[name], of_traffic(shown_signature, name), "traffic")
            for name in Traffic.CLASSES
            if name != traffic
        ]
    if verified is not None:
        parts.append(
            (_other_signature(verified), everything.exclude(verified=verified), "signature")
        )
    found = [
        Hidden(what, *count_about(queryset, HIDDEN_EXACT_BELOW), by=by)
        for what, queryset, by in parts
    ]
    return [part for part in found if part.count]


def hidden_of(
    site: str | None,
    start: dt.date | None,
    end: dt.date | None,
    kind: str | None,
    traffic: str,
    verified: bool | None,
) -> list[Hidden]:
    """What ``hidden`` answers for ``select(site, start, end, kind, None)``, exact and
    from the rollups (``class_totals``, the statistics' traffic table), where a
    count of raw hits grows with the table: at 10 million hits one site's
    prefetches of 30 days are a few thousand rows scattered among 250,000."""
    found = []
    if traffic != Traffic.ALL:
        shown = class_totals(site, start, end, verified, kind=kind)
        found += [
            Hidden(Traffic.LABELS[name], shown[name], False, by="traffic")
            for name in Traffic.CLASSES
            if name != traffic
        ]
    if verified is not None:
        other = sum(class_totals(site, start, end, not verified, kind=kind).values())
        found.append(Hidden(_other_signature(verified), other, False, by="signature"))
    return [part for part in found if part.count]


def _other_signature(verified: bool) -> str:
    # The hits a view of this signature leaves out.
    if verified:
        return "with a forged or broken signature or imported from an access log"
    return "with a valid signature"
