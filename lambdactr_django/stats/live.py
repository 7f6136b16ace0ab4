"""Live: page views by people in the last minutes, and the pages they are reading.

Raw hits, not rollups: the last half hour is never rolled up. One read of at
most ``MAX_LIVE_HITS`` rows walking the created_at index backwards from now,
whatever the size of the table.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.utils import timezone

from lambdactr_django.hits import Kind
from lambdactr_django.stats.reports import TOP_ROWS
from lambdactr_django.stats.results import Row
from lambdactr_django.stats.selection import select
from lambdactr_django.stats.traffic import Traffic, of_traffic

LIVE_MINUTES = 30
# Past this many views in the window the page says "more than"; the read stays small.
MAX_LIVE_HITS = 5_000


@dataclass(frozen=True, slots=True)
class Live:
    minutes: int
    # Views by people in the window, at most MAX_LIVE_HITS (then ``capped``).
    views: int
    capped: bool
    # The pages of those views, most viewed first.
    pages: list[Row]


def live(
    site: str | None = None,
    minutes: int = LIVE_MINUTES,
    limit: int = TOP_ROWS,
    now: dt.datetime | None = None,
) -> Live:
    """Verified page views by people in the ``minutes`` before ``now``."""
    now = now or timezone.now()
    hits = of_traffic(select(site=site, kind=Kind.VIEW, verified=True), Traffic.HUMAN)
    recent = list(
        hits.filter(created_at__gt=now - dt.timedelta(minutes=minutes), created_at__lte=now)
        .order_by("-created_at")
        .values_list("site", "path")[: MAX_LIVE_HITS + 1]
    )
    capped = len(recent) > MAX_LIVE_HITS
    counted = Counter(recent[:MAX_LIVE_HITS])
    top = sorted(counted.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return Live(
        minutes=minutes,
        views=min(len(recent), MAX_LIVE_HITS),
        capped=capped,
        pages=[
            Row(
                label=f"{page_site}{path}",
                views=views,
                visitors=None,
                lookups={"site": page_site, "path": path},
            )
            for (page_site, path), views in top
        ],
    )
