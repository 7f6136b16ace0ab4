"""The statistics: the one place hits are selected and counted.

The admin's statistics page and hit-list filters, lambdactr_report and the
export all select and count through these functions, so their numbers agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from lambdactr_django import days, rollups
from lambdactr_django.capture import VIEW, VISITOR
from lambdactr_django.conf import conf
from lambdactr_django.models import HeaderHit, Rollup

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
# The same, from rollup rows.
_ROLLED_VIEWS = Sum("hits", filter=Q(kind=VIEW))
_ROLLED_VISITORS = Sum("hits", filter=Q(kind=VISITOR))
CLASSES = (HUMAN, BOT, PREFETCH)


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
    return queryset.filter(between_q(start, end))


def between_q(start: dt.date | None, end: dt.date | None) -> Q:
    """The condition of ``between``."""
    # The first and last days Python can hold mean "no bound": one day beyond
    # them, or their midnight in UTC, cannot be represented.
    condition = Q()
    if start is not None and start > dt.date.min:
        condition &= Q(created_at__gte=days.start_of(start))
    if end is not None and end < dt.date.max:
        condition &= Q(created_at__lt=days.start_of(end + dt.timedelta(days=1)))
    return condition


def _gaps(
    runs: list[tuple[dt.date, dt.date]], start: dt.date | None, end: dt.date | None
) -> list[tuple[dt.date | None, dt.date | None]]:
    """The days from ``start`` to ``end`` outside the (sorted, disjoint) ``runs``."""
    one = dt.timedelta(days=1)
    gaps: list[tuple[dt.date | None, dt.date | None]] = []
    low = start
    for first, last in runs:
        if low is None or low < first:
            gaps.append((low, first - one))
        low = last + one
    if end is None or low <= end:
        gaps.append((low, end))
    return gaps


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
    viewed = chosen.filter(kind=VIEW)
    classes = _class_counts(every)
    return Report(
        start=start,
        end=end,
        traffic=traffic,
        views=_total(classes, traffic, VIEW),
        visitors=_total(classes, traffic, VISITOR),
        days=per_day(chosen, start, end),
        pages=_page_rows(
            viewed.values("site", "path")
            .annotate(n=Count("pk"))
            .order_by("-n", "site", "path")[:limit]
        ),
        referrers=_referrer_rows(
            viewed.exclude(referrer_host="")
            .values("referrer_host")
            .annotate(n=Count("pk"))
            .order_by("-n", "referrer_host")[:limit]
        ),
        browsers=_breakdown(chosen, "browser", limit),
        systems=_breakdown(chosen, "os", limit),
        devices=_breakdown(chosen, "device", limit),
        traffic_classes=_traffic_rows(classes),
        bot_reasons=_breakdown(of_traffic(every, BOT), "bot_reason", limit),
    )


def report_for(
    site: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    kind: str | None = None,
    verified: bool | None = True,
    traffic: str = HUMAN,
    limit: int = TOP_ROWS,
    *,
    catch_up: bool = True,
) -> Report:
    """The numbers of ``report(select(site, start, end, kind, verified), traffic, start,
    end, limit)``, counted from the rollups for sealed days and from the hits for the rest.

    With ``catch_up`` it first seals a few pending days of the range itself
    (``rollups.LAZY_DAYS``), so a site without a lambdactr_rollup cron job stays fast.
    """
    if catch_up:
        rollups.catch_up(start, end, most=rollups.LAZY_DAYS)
    using = router.db_for_read(HeaderHit) or "default"
    with transaction.atomic(using=using):
        if connections[using].vendor == "postgresql":
            # The page-rollup query is costed above jit_above_cost, and compiling
            # it took longer (70 ms measured at 10 million hits) than running it.
            with connections[using].cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        return _report_for(site, start, end, kind, verified, traffic, limit)


def _report_for(
    site: str | None,
    start: dt.date | None,
    end: dt.date | None,
    kind: str | None,
    verified: bool | None,
    traffic: str,
    limit: int,
) -> Report:
    hits = select(site, start, end, kind, verified).order_by()
    runs = rollups.sealed_runs(start, end, using=hits.db)
    if not runs:
        return report(hits, traffic, start, end, limit)
    # The hits of the other days, as plain ranges of created_at: the planner
    # then walks the index over today alone and estimates it right, where
    # NOT (sealed) would read every hit of the range.
    unsealed = Q()
    for first, last in _gaps(runs, start, end):
        unsealed |= between_q(first, last)
    # No gap: an empty range of created_at, as Django writes no SQL for .none().
    empty = days.start_of(runs[0][0])
    every = (
        select(site, None, None, kind, verified)
        .order_by()
        .filter(unsealed if unsealed else Q(created_at__gte=empty, created_at__lt=empty))
    )
    sealed_rows = Q()
    for first, last in runs:
        sealed_rows |= Q(day__gte=first, day__lte=last)
    rolled = Rollup.objects.using(hits.db).filter(sealed_rows)
    for name, value in (("site", site), ("kind", kind), ("verified", verified)):
        if value is not None:
            rolled = rolled.filter(**{name: value})
    chosen = of_traffic(every, traffic)
    rolled_chosen = rolled if traffic == ALL else rolled.filter(traffic=traffic)
    viewed = chosen.filter(kind=VIEW)

    classes = _class_counts(every)
    for row in (
        rolled.filter(dimension=rollups.DEVICE).values("traffic", "kind").annotate(n=Sum("hits"))
    ):
        key = (row["traffic"], row["kind"])
        classes[key] = classes.get(key, 0) + int(row["n"])
    counted = _counted_days(chosen)
    for row in (
        rolled_chosen.filter(dimension=rollups.DEVICE)
        .values("day")
        .annotate(views=_ROLLED_VIEWS, visitors=_ROLLED_VISITORS)
    ):
        views, visitors = counted.get(row["day"], (0, 0))
        counted[row["day"]] = (views + int(row["views"] or 0), visitors + int(row["visitors"] or 0))

    def rolled_values(dimension: str, column: str, source: QuerySet[Rollup]) -> QuerySet[Rollup]:
        return source.filter(dimension=dimension).annotate(**{column: F("value")}).values(column)

    def breakdown(column: str, raw: QuerySet[HeaderHit], source: QuerySet[Rollup]) -> list[Row]:
        return _breakdown_rows(
            _merged(
                raw.values(column).annotate(views=_VIEWS, visitors=_VISITORS),
                rolled_values(column, column, source).annotate(
                    views=_ROLLED_VIEWS, visitors=_ROLLED_VISITORS
                ),
                [column],
                ["views", "visitors"],
                limit,
            ),
            column,
        )

    return Report(
        start=start,
        end=end,
        traffic=traffic,
        views=_total(classes, traffic, VIEW),
        visitors=_total(classes, traffic, VISITOR),
        days=_series(counted, start, end),
        pages=_page_rows(
            _top_pages(
                viewed,
                rolled_chosen.filter(dimension=rollups.PAGE),
                limit,
                bound=(HEAVY - 1)
                * sum((last - first).days + 1 for first, last in runs)
                * (1 if traffic != ALL else len(CLASSES))
                * (1 if verified is not None else 2),
            )
        ),
        referrers=_referrer_rows(
            _merged(
                viewed.exclude(referrer_host="").values("referrer_host").annotate(n=Count("pk")),
                rolled_values(rollups.REFERRER, "referrer_host", rolled_chosen).annotate(
                    n=Sum("hits")
                ),
                ["referrer_host"],
                ["n"],
                limit,
            )
        ),
        browsers=breakdown("browser", chosen, rolled_chosen),
        systems=breakdown("os", chosen, rolled_chosen),
        devices=breakdown("device", chosen, rolled_chosen),
        traffic_classes=_traffic_rows(classes),
        bot_reasons=breakdown("bot_reason", of_traffic(every, BOT), rolled.filter(traffic=BOT)),
    )


# A page's rollup row with at least this many views is "heavy"; the partial
# index lambdactr_rollup_heavy_idx holds these rows only (see _top_pages).
HEAVY = 20
# More candidate pages than this: count every page instead.
MAX_CANDIDATES = 400


def _top_pages(
    raw: QuerySet[HeaderHit], rolled: QuerySet[Rollup], limit: int, bound: int
) -> list[dict[str, Any]]:
    """The top pages of the raw hits and the page rollup rows together.

    Adding up every page of a month is most of the statistics' work at
    millions of hits (the long tail). But a page with no heavy row on any day
    has at most ``bound`` views in the rollups (HEAVY - 1 per row, per day and
    traffic class and signature counted); so when the top pages among those
    with a heavy row, counted exactly, all have more than ``bound`` plus the
    most any other page has in the raw hits, no other page can be among them.
    Otherwise every page is counted. Either way the answer is exact.
    """
    full = rolled.annotate(path=F("value")).values("site", "path").annotate(n=Sum("hits"))
    raw_pages = raw.values("site", "path").annotate(n=Count("pk"))
    heavy = set(rolled.filter(hits__gte=HEAVY).values_list("site", "value").distinct())
    if 0 < len(heavy) <= MAX_CANDIDATES:
        sites = {site for site, _ in heavy}
        paths = {path for _, path in heavy}
        # Every page of these sites and paths is counted exactly below.
        others = [
            row["n"]
            for row in raw_pages.order_by()
            if row["site"] not in sites or row["path"] not in paths
        ]
        top = _merged(
            raw_pages.filter(site__in=sorted(sites), path__in=sorted(paths)),
            full.filter(site__in=sorted(sites), value__in=sorted(paths)),
            ["site", "path"],
            ["n"],
            limit,
        )
        if len(top) == limit and top[-1]["n"] > bound + max(others, default=0):
            return top
    return _merged(raw_pages, full, ["site", "path"], ["n"], limit)


def _merged(
    raw: QuerySet[Any], rolled: QuerySet[Any], keys: list[str], counts: list[str], limit: int
) -> list[dict[str, Any]]:
    """The top ``limit`` groups of two grouped querysets with the same columns
    (``keys`` then ``counts``), their counts added, ordered as ``report`` orders."""
    # One statement: the groups of a long tail (pages) never travel to Python.
    connection = connections[raw.db]
    quote = connection.ops.quote_name
    parts: list[str] = []
    params: list[Any] = []
    for number, queryset in enumerate((raw, rolled)):
        sql, part_params = queryset.query.get_compiler(using=raw.db).as_sql()
        # Django's own SQL and quoted column names; every value is a parameter.
        parts.append(f"SELECT * FROM ({sql}) AS {quote(f'part{number}')}")  # noqa: S608
        params.extend(part_params)
    columns = ", ".join(quote(key) for key in keys)
    sums = ", ".join(f"COALESCE(SUM({quote(c)}), 0) AS {quote(c)}" for c in counts)
    order = ", ".join([*(f"{quote(c)} DESC" for c in counts), columns])
    union = " UNION ALL ".join(parts)
    sql = f"SELECT {columns}, {sums} FROM ({union}) AS {quote('merged')} GROUP BY {columns}"  # noqa: S608
    sql += f" ORDER BY {order} LIMIT %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        rows = cursor.fetchall()
    return [
        {
            **dict(zip(keys, row[: len(keys)], strict=True)),
            **{c: int(v) for c, v in zip(counts, row[len(keys) :], strict=True)},
        }
        for row in rows
    ]


def _page_rows(rows: Iterable[dict[str, Any]]) -> list[Row]:
    return [
        Row(
            label=f"{row['site']}{row['path']}",
            views=row["n"],
            visitors=0,
            lookups={"site": row["site"], "path": row["path"]},
        )
        for row in rows
    ]


def _referrer_rows(rows: Iterable[dict[str, Any]]) -> list[Row]:
    return [
        Row(
            label=row["referrer_host"],
            views=row["n"],
            visitors=0,
            lookups={"referrer_host": row["referrer_host"]},
        )
        for row in rows
    ]


def _total(classes: dict[tuple[str, str], int], traffic: str, kind: str) -> int:
    wanted = CLASSES if traffic == ALL else (traffic,)
    return sum(classes.get((name, kind), 0) for name in wanted)


def per_day(
    queryset: QuerySet[HeaderHit], start: dt.date | None = None, end: dt.date | None = None
) -> list[Day]:
    """Views and visitors on every day from ``start`` to ``end``, zeros included;
    without them, from the first to the last day with hits."""
    return _series(_counted_days(queryset), start, end)


def _counted_days(queryset: QuerySet[HeaderHit]) -> dict[dt.date, tuple[int, int]]:
    return {
        row["day"]: (row["views"], row["visitors"])
        for row in queryset.order_by()
        .annotate(day=TruncDate("created_at", tzinfo=conf.site_zone()))
        .values("day")
        .annotate(views=_VIEWS, visitors=_VISITORS)
    }


def _series(
    counted: dict[dt.date, tuple[int, int]], start: dt.date | None, end: dt.date | None
) -> list[Day]:
    if not counted and (start is None or end is None):
        return []
    first = start or min(counted)
    last = end or max(counted)
    first = max(first, last - dt.timedelta(days=MAX_CHART_DAYS - 1))
    series = []
    day = first
    while day <= last:
        views, visitors = counted.get(day, (0, 0))
        series.append(Day(day=day, views=views, visitors=visitors))
        day += dt.timedelta(days=1)
    return series


def _breakdown(queryset: QuerySet[HeaderHit], column: str, limit: int) -> list[Row]:
    return _breakdown_rows(
        queryset.values(column)
        .annotate(views=_VIEWS, visitors=_VISITORS)
        .order_by("-views", "-visitors", column)[:limit],
        column,
    )


def _breakdown_rows(rows: Iterable[dict[str, Any]], column: str) -> list[Row]:
    return [
        Row(
            label=row[column],
            views=row["views"],
            visitors=row["visitors"],
            lookups={column: row[column]},
        )
        for row in rows
    ]


def _class_counts(queryset: QuerySet[HeaderHit]) -> dict[tuple[str, str], int]:
    """Hits of every (traffic class, kind)."""
    counts = queryset.aggregate(
        **{
            f"{traffic}_{kind}": Count("pk", filter=traffic_condition(traffic) & Q(kind=kind))
            for traffic in CLASSES
            for kind in (VIEW, VISITOR)
        }
    )
    return {
        (traffic, kind): counts[f"{traffic}_{kind}"]
        for traffic in CLASSES
        for kind in (VIEW, VISITOR)
    }


def _traffic_rows(classes: dict[tuple[str, str], int]) -> list[Row]:
    return [
        Row(
            label=TRAFFIC[traffic],
            views=classes.get((traffic, VIEW), 0),
            visitors=classes.get((traffic, VISITOR), 0),
            lookups={"traffic": traffic},
        )
        for traffic in CLASSES
    ]
