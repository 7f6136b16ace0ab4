"""What of a range of days the rollups cover: their rows (the days', and whole
months' where they have them) and the raw hits of the rest."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from lambdactr_django import days
from lambdactr_django.models import HeaderHit, Rollup
from lambdactr_django.stats import merge, rollups
from lambdactr_django.stats.selection import select, uncovered
from lambdactr_django.stats.traffic import Traffic

_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Parts:
    # The hits no rollup row counts (today's current hour, days not rolled).
    raw: QuerySet[HeaderHit]
    # The rows the lists and totals read: whole months' where rolled, days' elsewhere.
    listed: QuerySet[Rollup]
    # The days' rows alone, for the per-day series.
    daily: QuerySet[Rollup]
    # The most views a page with no heavy row can have in ``listed``.
    page_bound: int


def parts(
    runs: list[tuple[dt.date, dt.date]],
    partial: dict[dt.date, dt.datetime],
    site: str | None,
    start: dt.date | None,
    end: dt.date | None,
    kind: str | None,
    verified: bool | None,
    traffic: str,
) -> Parts:
    """The parts of ``select(site, start, end, kind, verified)``: ``runs`` of sealed
    days and the days rolled up so far (``partial``: up to which instant)."""
    covered = [(days.start_of(first), days.start_of(last + _ONE_DAY)) for first, last in runs]
    covered += [(days.start_of(day), until) for day, until in partial.items()]
    raw = select(site, None, None, kind, verified).order_by().filter(uncovered(covered, start, end))
    months = rollups.rolled_months(rollups.sealed_months(runs, start, end), using=raw.db)
    daily = Q(period=rollups.DAY, day__in=sorted(partial))
    for first, last in runs:
        daily |= Q(period=rollups.DAY, day__gte=first, day__lte=last)
    listed = Q(period=rollups.DAY, day__in=sorted(partial))
    rest = without_months(runs, months)
    for first, last in rest:
        listed |= Q(period=rollups.DAY, day__gte=first, day__lte=last)
    if months:
        listed |= Q(period=rollups.MONTH, day__in=months)
    # One site's rows, or every site's counted together: one group a day, not one a site.
    chosen = Rollup.objects.using(raw.db).filter(scope=rollups.scope_of(site))
    for name, value in (("site", site), ("verified", verified)):
        if value is not None:
            chosen = chosen.filter(**{name: value})
    # A page with no heavy rollup row has at most merge.HEAVY - 1 views in
    # each row: one per rolled day or month, traffic class and signature counted.
    rows_per_page = (
        (sum((last - first).days + 1 for first, last in rest) + len(months) + len(partial))
        * (1 if traffic != Traffic.ALL else len(Traffic.CLASSES))
        * (1 if verified is not None else 2)
    )
    return Parts(
        raw=raw,
        listed=chosen.filter(listed),
        daily=chosen.filter(daily),
        page_bound=(merge.HEAVY - 1) * rows_per_page,
    )


def without_months(
    runs: list[tuple[dt.date, dt.date]], months: list[dt.date]
) -> list[tuple[dt.date, dt.date]]:
    """``runs`` of days less the whole ``months`` (first days) inside them."""
    left = list(runs)
    for month in months:
        first, last = rollups.month_days(month)
        split = []
        for low, high in left:
            if last < low or high < first:
                split.append((low, high))
                continue
            if low < first:
                split.append((low, first - _ONE_DAY))
            if last < high:
                split.append((last + _ONE_DAY, high))
        left = split
    return left
