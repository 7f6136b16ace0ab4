"""The statistics: the one place hits are selected and counted.

The admin's statistics page and hit-list filters, lambdactr_report and the
export all select and count through these functions, so their numbers agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate

from lambdactr_django import days
from lambdactr_django.capture import VIEW, VISITOR
from lambdactr_django.conf import conf
from lambdactr_django.models import HeaderHit

# Traffic classes; they split every set of hits into three parts with no overlap.
HUMAN = "human"
BOT = "bot"
PREFETCH = "prefetch"
ALL = "all"
TRAFFIC = {HUMAN: "people", BOT: "bots", PREFETCH: "prefetches", ALL: "all"}
TOP_ROWS = 10
# A chart of more days than this would draw bars thinner than a pixel.
MAX_CHART_DAYS = 366

_VIEWS = Count("pk", filter=Q(kind=VIEW))
_VISITORS = Count("pk", filter=Q(kind=VISITOR))


def select(
    site: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    kind: str | None = None,
    verified: bool | None = True,
) -> QuerySet[HeaderHit]:
    """Hits of every traffic class matching the filters the hit list offers."""
    queryset: QuerySet[HeaderHit] = HeaderHit.objects.all()
    if site is not None:
        queryset = queryset.filter(site=site)
    if kind is not None:
        queryset = queryset.filter(kind=kind)
    if verified is not None:
        queryset = queryset.filter(verified=verified)
    return between(queryset, start, end)


def between(
    queryset: QuerySet[HeaderHit], start: dt.date | None, end: dt.date | None
) -> QuerySet[HeaderHit]:
    """Hits from the start of ``start`` to the end of ``end``, in the site's time zone."""
    # The first and last days Python can hold mean "no bound": one day beyond
    # them, or their midnight in UTC, cannot be represented.
    if start is not None and start > dt.date.min:
        queryset = queryset.filter(created_at__gte=days.start_of(start))
    if end is not None and end < dt.date.max:
        queryset = queryset.filter(created_at__lt=days.start_of(end + dt.timedelta(days=1)))
    return queryset


def recent(queryset: QuerySet[HeaderHit], hits: int) -> QuerySet[HeaderHit]:
    """The latest ``hits`` hits of ``queryset`` (a few more when several share a time)."""
    # Two queries rather than a subquery: the planner sees a plain bound on
    # created_at and walks its index, instead of guessing and scanning.
    oldest = (
        queryset.order_by("-created_at").values_list("created_at", flat=True)[hits - 1 : hits]
    ).first()
    if oldest is None:
        return queryset
    return queryset.filter(created_at__gte=oldest)


def of_traffic(queryset: QuerySet[HeaderHit], traffic: str) -> QuerySet[HeaderHit]:
    return queryset.filter(traffic_condition(traffic))


def traffic_condition(traffic: str) -> Q:
    if traffic == HUMAN:
        return Q(is_bot=False, prefetch="")
    if traffic == BOT:
        return Q(is_bot=True)
    if traffic == PREFETCH:
        # A bot that prefetches is counted as a bot, so the classes do not overlap.
        return Q(is_bot=False) & ~Q(prefetch="")
    return Q()


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    views: int
    visitors: int
    # Field values selecting these hits, for links to the hit list.
    lookups: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Day:
    day: dt.date
    views: int
    visitors: int


@dataclass(frozen=True, slots=True)
class Report:
    start: dt.date | None
    end: dt.date | None
    traffic: str
    views: int
    visitors: int
    days: list[Day]
    pages: list[Row]
    referrers: list[Row]
    browsers: list[Row]
    systems: list[Row]
    devices: list[Row]
    # Every traffic class, whatever ``traffic`` is, for the share of bots and prefetches.
    traffic_classes: list[Row]
    bot_reasons: list[Row]

    @property
    def hits(self) -> int:
        return self.views + self.visitors

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["hits"] = self.hits
        return data


def report(
    queryset: QuerySet[HeaderHit],
    traffic: str = HUMAN,
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int = TOP_ROWS,
) -> Report:
    """Statistics of ``queryset`` (hits of every traffic class) restricted to ``traffic``.

    ``start`` and ``end`` only say which days the per-day series covers; the
    queryset must already be restricted to them (see ``between``).
    """
    # Meta.ordering would otherwise join every GROUP BY.
    every = queryset.order_by()
    chosen = of_traffic(every, traffic)
    totals = chosen.aggregate(views=_VIEWS, visitors=_VISITORS)
    viewed = chosen.filter(kind=VIEW)
    return Report(
        start=start,
        end=end,
        traffic=traffic,
        views=totals["views"],
        visitors=totals["visitors"],
        days=per_day(chosen, start, end),
        pages=[
            Row(
                label=f"{row['site']}{row['path']}",
                views=row["n"],
                visitors=0,
                lookups={"site": row["site"], "path": row["path"]},
            )
            for row in viewed.values("site", "path")
            .annotate(n=Count("pk"))
            .order_by("-n", "site", "path")[:limit]
        ],
        referrers=[
            Row(
                label=row["referrer_host"],
                views=row["n"],
                visitors=0,
                lookups={"referrer_host": row["referrer_host"]},
            )
            for row in viewed.exclude(referrer_host="")
            .values("referrer_host")
            .annotate(n=Count("pk"))
            .order_by("-n", "referrer_host")[:limit]
        ],
        browsers=_breakdown(chosen, "browser", limit),
        systems=_breakdown(chosen, "os", limit),
        devices=_breakdown(chosen, "device", limit),
        traffic_classes=_traffic_classes(every),
        bot_reasons=_breakdown(of_traffic(every, BOT), "bot_reason", limit),
    )


def per_day(
    queryset: QuerySet[HeaderHit], start: dt.date | None = None, end: dt.date | None = None
) -> list[Day]:
    """Views and visitors on every day from ``start`` to ``end``, zeros included;
    without them, from the first to the last day with hits."""
    counted = {
        row["day"]: row
        for row in queryset.order_by()
        .annotate(day=TruncDate("created_at", tzinfo=conf.site_zone()))
        .values("day")
        .annotate(views=_VIEWS, visitors=_VISITORS)
    }
    if not counted and (start is None or end is None):
        return []
    first = start or min(counted)
    last = end or max(counted)
    first = max(first, last - dt.timedelta(days=MAX_CHART_DAYS - 1))
    series = []
    day = first
    while day <= last:
        row = counted.get(day, {})
        series.append(Day(day=day, views=row.get("views", 0), visitors=row.get("visitors", 0)))
        day += dt.timedelta(days=1)
    return series


def _breakdown(queryset: QuerySet[HeaderHit], column: str, limit: int) -> list[Row]:
    return [
        Row(
            label=row[column],
            views=row["views"],
            visitors=row["visitors"],
            lookups={column: row[column]},
        )
        for row in queryset.values(column)
        .annotate(views=_VIEWS, visitors=_VISITORS)
        .order_by("-views", "-visitors", column)[:limit]
    ]


def _traffic_classes(queryset: QuerySet[HeaderHit]) -> list[Row]:
    counts = queryset.aggregate(
        **{
            f"{traffic}_{kind}": Count("pk", filter=traffic_condition(traffic) & Q(kind=kind))
            for traffic in (HUMAN, BOT, PREFETCH)
            for kind in (VIEW, VISITOR)
        }
    )
    return [
        Row(
            label=TRAFFIC[traffic],
            views=counts[f"{traffic}_{VIEW}"],
            visitors=counts[f"{traffic}_{VISITOR}"],
            lookups={"traffic": traffic},
        )
        for traffic in (HUMAN, BOT, PREFETCH)
    ]
