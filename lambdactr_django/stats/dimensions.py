"""The report's sources, campaigns, entry pages, languages, countries, visits and
bounces: counted like the browsers are, from raw hits and rollups together."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from django.db.models import Count, F, Sum

from lambdactr_django.hits import Kind
from lambdactr_django.stats import merge, rollups
from lambdactr_django.stats.results import Row
from lambdactr_django.stats.traffic import Traffic

if TYPE_CHECKING:
    from lambdactr_django.stats.reports import _Counts

# Report field -> (the hits' column, which is also its rollup dimension).
BREAKDOWNS = {
    "sources": rollups.UTM_SOURCE,
    "mediums": rollups.UTM_MEDIUM,
    "campaigns": rollups.UTM_CAMPAIGN,
    "languages": rollups.LANGUAGE,
    "countries": rollups.COUNTRY,
}
LISTS = ("channels", "entry_pages", *BREAKDOWNS)


def counted(counts: _Counts, classes: dict[tuple[str, str], int]) -> dict[str, Any]:
    """The Report's fields of these dimensions."""
    for name in LISTS:
        counts.unlisted.setdefault(name, 0)
    views = _total(classes, counts.traffic, Kind.VIEW)
    visits = _total(classes, counts.traffic, Kind.VISITOR_DAY)
    # A visit's second view comes after its first on the same day, so the days'
    # second views are at most their visits, but for a first view refused (rate
    # limit, DNT honoured) or counted before the counter was deployed.
    bounces = max(visits - _total(classes, counts.traffic, Kind.SECOND_VIEW), 0)
    found: dict[str, Any] = {
        name: counts.breakdown(
            name, column, counts.chosen.exclude(**{column: ""}), counts.rolled_chosen
        )
        for name, column in BREAKDOWNS.items()
    }
    return {
        **found,
        "channels": _channels(counts, views),
        "entry_pages": _entry_pages(counts),
        "visits": visits,
        "bounces": bounces,
        "bounce_rate": bounces / visits if visits else None,
        "views_per_visit": views / visits if visits else None,
    }


def _total(classes: dict[tuple[str, str], int], traffic: str, kind: str) -> int:
    wanted = Traffic.CLASSES if traffic == Traffic.ALL else (traffic,)
    return sum(classes.get((name, kind), 0) for name in wanted)


def _channels(counts: _Counts, views: int) -> list[Row]:
    arrived = counts.chosen.filter(kind=Kind.VIEW).exclude(channel="")
    listed = counts.breakdown("channels", rollups.CHANNEL, arrived, counts.rolled_chosen)
    total = arrived.count()
    chosen = counts.rolled_of(Kind.VIEW)
    if chosen is not None:
        rolled = chosen.filter(dimension=rollups.CHANNEL)
        total += int(rolled.aggregate(n=Sum("views"))["n"] or 0)
    rows = [replace(row, visitors=None) for row in listed]
    # The rest came from no other site and no tagged link: typed, bookmarked, or
    # a link on the site itself, which no beacon can tell apart (docs/statistics.md).
    rows.append(Row(label="", views=max(views - total, 0), visitors=None, lookups={"channel": ""}))
    rows.sort(key=lambda row: (-row.views, row.label))
    return rows[: counts.limit]


def _entry_pages(counts: _Counts) -> list[Row]:
    raw = (
        counts.chosen.filter(kind=Kind.VISITOR_DAY)
        .exclude(path="")
        .values("site", "path")
        .annotate(n=Count("pk"))
    )
    found: list[dict[str, Any]]
    chosen = counts.rolled_of(Kind.VISITOR_DAY)
    if chosen is None:
        found = [dict(row) for row in raw.order_by("-n", "site", "path")[: counts.limit]]
    else:
        rolled = (
            chosen.filter(dimension=rollups.ENTRY, folded=0)
            .annotate(path=F("value"))
            .values("site", "path")
            .annotate(n=Sum("visitors"))
        )
        found = merge.merged(raw, rolled, ["site", "path"], ["n"], counts.limit)
    rows = [
        Row(
            label=f"{row['site']}{row['path']}",
            # Each visit has one first view: both count visits.
            views=row["n"],
            visitors=row["n"],
            lookups={"site": row["site"], "path": row["path"]},
        )
        for row in found
    ]
    return counts.short("entry_pages", rollups.ENTRY, rows)
