"""The statistics: views and visitors of a range of days, per day and by page,
referrer, browser, OS, device and traffic class.

The admin's statistics page, lambdactr_report and their tests count through
``report_for`` (rollups for sealed days, raw hits for the rest) or ``report``
(raw hits only, for selections the rollups cannot answer); both build the same
``Report`` with the same code, so their numbers agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from django.db import connections, router, transaction
from django.db.models import BigIntegerField, Count, F, Q, QuerySet, Sum, Value
from django.db.models.functions import TruncDate

from lambdactr_django import days
from lambdactr_django.hits import Kind
from lambdactr_django.models import HeaderHit, Rollup
from lambdactr_django.stats import coverage, dimensions, merge, rollups
from lambdactr_django.stats.results import (
    Day,
    Report,
    Row,
    breakdown_rows,
    page_rows,
    referrer_rows,
)
from lambdactr_django.stats.selection import select
from lambdactr_django.stats.traffic import Traffic, class_counts, of_traffic

TOP_ROWS = 10
# A chart of more days than this would draw bars thinner than a pixel.
MAX_CHART_DAYS = 366

_VIEWS = Count("pk", filter=Q(kind=Kind.VIEW))
_VISITORS = Count("pk", filter=Q(kind=Kind.VISITOR_DAY))

Classes = dict[tuple[str, str], int]
Counted = dict[dt.date, tuple[int, int]]


def report(
    queryset: QuerySet[HeaderHit],
    traffic: str = Traffic.HUMAN,
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int = TOP_ROWS,
) -> Report:
    """Statistics of ``queryset`` (hits of every traffic class) restricted to ``traffic``,
    counted from the raw hits.

    ``start`` and ``end`` only say which days the per-day series covers; the
    queryset must already be restricted to them (see ``selection.between``).
    """
    # Meta.ordering would otherwise join every GROUP BY.
    return _Counts(queryset.order_by(), None, traffic, limit).report(start, end)


def report_for(
    site: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    kind: str | None = None,
    verified: bool | None = True,
    traffic: str = Traffic.HUMAN,
    limit: int = TOP_ROWS,
    *,
    narrowed: QuerySet[HeaderHit] | None = None,
) -> Report:
    """The numbers of ``report(select(site, start, end, kind, verified), traffic, start,
    end, limit)``, counted from the rollups for sealed days and from the hits for the rest.

    ``narrowed``: those hits (of every traffic class) restricted further, by a
    search or a filter on another column. The rollups hold no such subsets, so
    they are counted from the raw hits.

    Only reads: sealing days is ``rollups.catch_up``'s job (lambdactr_rollup, or
    the statistics page before it asks).
    """
    if narrowed is not None:
        return report(narrowed, traffic, start, end, limit)
    with _reading():
        return _counts_of(site, start, end, kind, verified, traffic, limit).report(start, end)


def class_totals(
    site: str | None,
    start: dt.date | None,
    end: dt.date | None,
    verified: bool | None,
    *,
    kind: str | None = None,
) -> dict[str, int]:
    """The hits in each traffic class (``Traffic.CLASSES``) of ``select(site, start,
    end, kind, verified)``, every kind unless ``kind``: the numbers of
    ``report_for``'s traffic table, from the rollups for the days they cover and
    from the raw hits for the rest."""
    with _reading():
        classes = _counts_of(site, start, end, kind, verified, Traffic.ALL, TOP_ROWS).classes()
    return {
        name: sum(n for (traffic, _), n in classes.items() if traffic == name)
        for name in Traffic.CLASSES
    }


@contextmanager
def _reading() -> Iterator[None]:
    # One transaction: the rollups' state and the rows read agree.
    using = router.db_for_read(HeaderHit) or "default"
    with transaction.atomic(using=using):
        if connections[using].vendor == "postgresql":
            # The page-rollup query is costed above jit_above_cost, and compiling
            # it took longer (70 ms measured at 10 million hits) than running it.
            with connections[using].cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        yield


def _counts_of(
    site: str | None,
    start: dt.date | None,
    end: dt.date | None,
    kind: str | None,
    verified: bool | None,
    traffic: str,
    limit: int,
) -> _Counts:
    # The rollups for what they cover, the raw hits for the rest (coverage.parts).
    hits = select(site, start, end, kind, verified).order_by()
    runs = rollups.sealed_runs(start, end, using=hits.db)
    partial = rollups.partial(start, end, using=hits.db)
    if not runs and not partial:
        return _Counts(hits, None, traffic, limit)
    parts = coverage.parts(runs, partial, site, start, end, kind, verified, traffic)
    return _Counts(
        parts.raw,
        parts.listed,
        traffic,
        limit,
        page_bound=parts.page_bound,
        daily=parts.daily,
        kind=kind,
    )


_ONE_DAY = dt.timedelta(days=1)
_LISTS = ("pages", "referrers", "browsers", "systems", "devices", "bot_reasons")


def dimension_key(dimension: str) -> str:
    """The lookup a dimension's rows are linked by (a referrer's is its host)."""
    return "referrer_host" if dimension == rollups.REFERRER else dimension


class _Counts:
    """Every number of a report, from raw hits (``every``, of all traffic classes) and,
    when given, the rollup rows of the sealed days."""

    def __init__(
        self,
        every: QuerySet[HeaderHit],
        rolled: QuerySet[Rollup] | None,
        traffic: str,
        limit: int,
        page_bound: int = 0,
        daily: QuerySet[Rollup] | None = None,
        kind: str | None = None,
    ) -> None:
        self.every = every
        # The days' rows alone (``rolled`` may hold months'), for the series.
        daily = rolled if daily is None else daily
        # A rollup row counts every kind: with a kind chosen, only its column,
        # and only the rows where it counts some (as the raw hits of that kind).
        self.kind = kind
        if kind is not None:
            counted = Q(**{f"{rollups.COLUMNS[kind]}__gt": 0})
            rolled = None if rolled is None else rolled.filter(counted)
            daily = None if daily is None else daily.filter(counted)
        self.rolled = rolled
        self.daily = daily
        self.traffic = traffic
        self.limit = limit
        self.page_bound = page_bound
        self.chosen = of_traffic(every, traffic)
        self.viewed = self.chosen.filter(kind=Kind.VIEW)
        self.rolled_chosen = (
            rolled if rolled is None or traffic == Traffic.ALL else rolled.filter(traffic=traffic)
        )
        self.unlisted = dict.fromkeys(_LISTS, 0)

    def report(self, start: dt.date | None, end: dt.date | None) -> Report:
        classes = self.classes()
        return Report(
            start=start,
            end=end,
            traffic=self.traffic,
            views=_total(classes, self.traffic, Kind.VIEW),
            visitors=_total(classes, self.traffic, Kind.VISITOR_DAY),
            days=_series(self.per_day(), start, end),
            pages=self.short("pages", rollups.PAGE, page_rows(self.pages())),
            referrers=self.short("referrers", rollups.REFERRER, referrer_rows(self.referrers())),
            browsers=self.breakdown("browsers", "browser", self.chosen, self.rolled_chosen),
            systems=self.breakdown("systems", "os", self.chosen, self.rolled_chosen),
            devices=self.breakdown("devices", "device", self.chosen, self.rolled_chosen),
            traffic_classes=_traffic_rows(classes),
            bot_reasons=self.breakdown(
                "bot_reasons",
                "bot_reason",
                of_traffic(self.every, Traffic.BOT),
                None if self.rolled is None else self.rolled.filter(traffic=Traffic.BOT),
            ),
            **dimensions.counted(self, classes),
            unlisted=self.unlisted,
        )

    def short(
        self, name: str, dimension: str, rows: list[Row], rolled: QuerySet[Rollup] | None = None
    ) -> list[Row]:
        """``rows`` with the bound of what they may be missing (see merge.shortfalls)."""
        rolled = self.rolled_chosen if rolled is None else rolled
        if rolled is None:
            return rows
        # An empty list too: its values may all have been folded.
        per_site = dimension in rollups.PER_SITE
        value = "path" if per_site else dimension_key(dimension)
        keyed = [{"site": row.lookups.get("site", ""), value: row.lookups[value]} for row in rows]
        # The lists count views and visitors: second views are no bound.
        measures = [
            rollups.COLUMNS[kind]
            for kind in (Kind.VIEW, Kind.VISITOR_DAY)
            if self.kind in (None, kind)
        ]
        shorts, self.unlisted[name] = merge.shortfalls(
            rolled.filter(dimension=dimension), keyed, value, per_site=per_site, measures=measures
        )
        return [replace(row, short=short) for row, short in zip(rows, shorts, strict=True)]

    def classes(self) -> Classes:
        classes = class_counts(self.every)
        if self.rolled is not None:
            # Every hit has one device: the device rows count every hit once.
            sums = {f"n_{kind}": self.rolled_sum(kind) for kind in rollups.COLUMNS}
            rows: QuerySet[Any] = (
                self.rolled.filter(dimension=rollups.DEVICE).values("traffic").annotate(**sums)
            )
            for row in rows:
                for kind in rollups.COLUMNS:
                    key = (row["traffic"], kind)
                    classes[key] = classes.get(key, 0) + int(row[f"n_{kind}"] or 0)
        return classes

    def rolled_sum(self, kind: str) -> Sum | Value:
        """The rollup rows' count of ``kind``: 0 when another kind is chosen."""
        if self.kind in (None, kind):
            return Sum(rollups.COLUMNS[kind])
        return Value(0, output_field=BigIntegerField())

    def rolled_of(self, kind: str) -> QuerySet[Rollup] | None:
        """The chosen rollup rows where they may count ``kind`` (None otherwise)."""
        return self.rolled_chosen if self.kind in (None, kind) else None

    def per_day(self) -> Counted:
        counted = _counted_days(self.chosen)
        if self.daily is not None:
            daily = (
                self.daily
                if self.traffic == Traffic.ALL
                else self.daily.filter(traffic=self.traffic)
            )
            for row in (
                daily.filter(dimension=rollups.DEVICE)
                .values("day")
                .annotate(
                    n_views=self.rolled_sum(Kind.VIEW),
                    n_visitors=self.rolled_sum(Kind.VISITOR_DAY),
                )
            ):
                views, visitors = counted.get(row["day"], (0, 0))
                counted[row["day"]] = (
                    views + int(row["n_views"] or 0),
                    visitors + int(row["n_visitors"] or 0),
                )
        return counted

    def pages(self) -> list[dict[str, Any]]:
        raw = self.viewed.values("site", "path").annotate(n=Count("pk"))
        rolled = self.rolled_of(Kind.VIEW)
        if rolled is None:
            return _top(raw, ["site", "path"], ["n"], self.limit)
        return merge.top_pages(
            self.viewed,
            rolled.filter(dimension=rollups.PAGE, folded=0),
            self.limit,
            bound=self.page_bound,
        )

    def referrers(self) -> list[dict[str, Any]]:
        raw = self.viewed.exclude(referrer_host="").values("referrer_host").annotate(n=Count("pk"))
        chosen = self.rolled_of(Kind.VIEW)
        if chosen is None:
            return _top(raw, ["referrer_host"], ["n"], self.limit)
        rolled = _rolled_values(rollups.REFERRER, "referrer_host", chosen)
        return merge.merged(
            raw, rolled.annotate(n=Sum("views")), ["referrer_host"], ["n"], self.limit
        )

    def breakdown(
        self, name: str, column: str, raw: QuerySet[HeaderHit], rolled: QuerySet[Rollup] | None
    ) -> list[Row]:
        # Views and visitors: a second view is in no list (nor in these rollups).
        grouped = (
            raw.exclude(kind=Kind.SECOND_VIEW)
            .values(column)
            .annotate(n_views=_VIEWS, n_visitors=_VISITORS)
        )
        counts = ["n_views", "n_visitors"]
        if self.kind == Kind.SECOND_VIEW:
            # Only the device rows count second views, and no list shows them.
            rolled = None
        if rolled is None:
            rows = _top(grouped, [column], counts, self.limit)
        else:
            # A device's rows count second views too: not the rows of those alone.
            listed = rolled.filter(Q(views__gt=0) | Q(visitors__gt=0))
            rolled_grouped = _rolled_values(column, column, listed).annotate(
                n_views=self.rolled_sum(Kind.VIEW), n_visitors=self.rolled_sum(Kind.VISITOR_DAY)
            )
            rows = merge.merged(grouped, rolled_grouped, [column], counts, self.limit)
        return self.short(name, column, breakdown_rows(rows, column), rolled)


def _rolled_values(dimension: str, column: str, rolled: QuerySet[Rollup]) -> QuerySet[Any]:
    # Rollup rows of one dimension, their value named as the hits' column.
    named: QuerySet[Any] = (
        rolled.filter(dimension=dimension, folded=0).annotate(**{column: F("value")}).values(column)
    )
    return named


def _top(
    grouped: QuerySet[Any], keys: list[str], counts: list[str], limit: int
) -> list[dict[str, Any]]:
    # Ordered as merge.merged orders: counts descending, then the keys.
    order = [*(f"-{count}" for count in counts), *keys]
    return [dict(row) for row in grouped.order_by(*order)[:limit]]


def _total(classes: Classes, traffic: str, kind: str) -> int:
    wanted = Traffic.CLASSES if traffic == Traffic.ALL else (traffic,)
    return sum(classes.get((name, kind), 0) for name in wanted)


def per_day(
    queryset: QuerySet[HeaderHit], start: dt.date | None = None, end: dt.date | None = None
) -> list[Day]:
    """Views and visitors on every day from ``start`` to ``end``, zeros included;
    without them, from the first to the last day with hits."""
    return _series(_counted_days(queryset), start, end)


def _counted_days(queryset: QuerySet[HeaderHit]) -> Counted:
    return {
        row["day"]: (row["views"], row["visitors"])
        for row in queryset.order_by()
        .annotate(day=TruncDate("created_at", tzinfo=days.site_zone()))
        .values("day")
        .annotate(views=_VIEWS, visitors=_VISITORS)
    }


def _series(counted: Counted, start: dt.date | None, end: dt.date | None) -> list[Day]:
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


def _traffic_rows(classes: Classes) -> list[Row]:
    return [
        Row(
            label=Traffic.LABELS[traffic],
            views=classes.get((traffic, Kind.VIEW), 0),
            visitors=classes.get((traffic, Kind.VISITOR_DAY), 0),
            lookups={"traffic": traffic},
        )
        for traffic in Traffic.CLASSES
    ]
