"""Periods of days in the site's time zone (days.py), the period before each, and
its report (cached while its days stay sealed)."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Final

from django.core.cache import cache
from django.db import router
from django.db.models import Count, Max

from lambdactr_django import days
from lambdactr_django.models import HeaderHit, RolledDay
from lambdactr_django.stats import rollups
from lambdactr_django.stats.reports import report_for
from lambdactr_django.stats.results import Report

_ONE_DAY = dt.timedelta(days=1)

TODAY: Final = "today"
YESTERDAY: Final = "yesterday"
LAST_7_DAYS: Final = "7d"
LAST_30_DAYS: Final = "30d"
THIS_MONTH: Final = "month"
LAST_MONTH: Final = "lastmonth"
LAST_12_MONTHS: Final = "12m"
# The value of the ``when`` query parameter, and what a person reads, in order.
PRESETS: Final = {
    TODAY: "Today",
    YESTERDAY: "Yesterday",
    LAST_7_DAYS: "Last 7 days",
    LAST_30_DAYS: "Last 30 days",
    THIS_MONTH: "This month",
    LAST_MONTH: "Last month",
    LAST_12_MONTHS: "Last 12 months",
}


def preset_days(preset: str, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The first and last day of a preset period (a key of ``PRESETS``), today included."""
    today = today or days.today()
    if preset == TODAY:
        return today, today
    if preset == YESTERDAY:
        return today - _ONE_DAY, today - _ONE_DAY
    if preset == LAST_7_DAYS:
        return today - 6 * _ONE_DAY, today
    if preset == LAST_30_DAYS:
        return today - 29 * _ONE_DAY, today
    if preset == THIS_MONTH:
        return today.replace(day=1), today
    if preset == LAST_MONTH:
        last = today.replace(day=1) - _ONE_DAY
        return last.replace(day=1), last
    if preset == LAST_12_MONTHS:
        return _year_before(today) + _ONE_DAY, today
    raise KeyError(preset)


def _year_before(day: dt.date) -> dt.date:
    # 29 February a year before is 28 February.
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def previous(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date] | None:
    """The period of as many days that ends the day before ``start``; None for an open
    range or one that begins at the first day hits can have."""
    if start is None or end is None or end < start:
        return None
    length = end - start
    last = start - _ONE_DAY
    first = last - length
    if last < days.FIRST_DAY:
        return None
    return max(first, days.FIRST_DAY), last


# Part of the cache key: a Report of another shape is never read back.
_CACHE_VERSION = 1
_CACHE_SECONDS = 24 * 60 * 60


def report_before(
    site: str | None,
    start: dt.date,
    end: dt.date,
    kind: str | None,
    verified: bool | None,
    traffic: str,
    limit: int,
) -> Report:
    """``report_for`` of a period in the past, to compare with.

    When every day of it is sealed, the report is counted from the rollups
    alone, and it can only change when one of those days is rolled up again
    (a late or replayed hit, a delete, a relabel) or unsealed: so it is kept
    in Django's cache under the days' sealing times, and a page loaded again
    costs one small query for its comparison instead of a second report.
    """
    using = router.db_for_read(HeaderHit) or "default"
    sealed = (
        RolledDay.objects.using(using)
        .filter(zone=rollups.zone_name(), until=None, day__gte=start, day__lte=end)
        .aggregate(days=Count("day"), latest=Max("rolled_at"))
    )
    arguments = (site, start, end, kind, verified, traffic, limit)
    if sealed["days"] != (end - start).days + 1:
        return report_for(*arguments)
    key = (
        "lambdactr:before:"
        + hashlib.sha256(
            repr((_CACHE_VERSION, using, rollups.zone_name(), sealed["latest"], arguments)).encode()
        ).hexdigest()
    )
    found = cache.get(key)
    if isinstance(found, Report):
        return found
    report = report_for(*arguments)
    cache.set(key, report, _CACHE_SECONDS)
    return report
