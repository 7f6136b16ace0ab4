"""Rollups: per-day counts that spare the statistics the raw hits.

A day is *sealed* once it has ended in the site's time zone (plus a grace
period for inserts in flight): its hits are counted by dimension into Rollup in
one transaction, and RolledDay records the day with the zone its midnights were
in. A day not sealed yet (today) is rolled up *so far*, by the hour: its hits
up to the latest whole hour (plus the same grace) are counted again each hour,
and RolledDay.until says up to when. The statistics (``stats.reports``) read
Rollup for those parts and the raw hits for the rest (at most the current hour
and the grace), so their answers do not depend on the hour, and they are exact
as long as

* every later insert or relabelling of a rolled day's hits is followed by
  ``refresh`` (the store announces its late inserts with
  ``lambdactr_django.signals.hits_stored``, which ``refresh_for`` listens to), and
* every deletion of hits calls ``forget`` for their days in the same
  transaction: the day is read raw again until it is rolled anew.

A row counts one value's views, visitor-days and second views. Each group of
rows (day, site, dimension, traffic class, signature) keeps its busiest values
(``LAMBDACTR_ROLLUP_KEEP`` for people, ``LAMBDACTR_ROLLUP_KEEP_BOTS`` for bots
and prefetches); the others are counted together in one row (``folded``), and
every row of the group carries the most one of those had (``largest_views``,
``largest_visitors``). So a day's rows are bounded however long its tail: the
totals stay exact, and the top lists say by how much a count may fall short
(``stats.merge.shortfalls``).

A month whose every day is sealed is also counted whole (``roll_months``, from
``catch_up``): the same rows with the month's first day and ``period`` "month",
which the statistics of long ranges read instead of its days' (a year is then
twelve groups of rows, not 365). Rolling or forgetting any of its days
unrolls the month (``RolledMonth`` deleted with its rows) until it is rolled
again, so month rows never count hits their days no longer have.

Rolling a day deletes its rows and counts them again, so it can be repeated at
any time. When the site's time zone changes, days rolled in the old one are
dropped and rolled again in the new one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.db import IntegrityError, connections, router, transaction
from django.dispatch import receiver
from django.utils import timezone

from lambdactr_django import days as site_days
from lambdactr_django.models import HeaderHit, RolledDay, RolledMonth, Rollup
from lambdactr_django.signals import hits_stored

# The dimensions and the rows' SQL live beside; the statistics name them from here.
from lambdactr_django.stats.rollup_sql import (
    ALL as ALL,
    BOT_REASON as BOT_REASON,
    BROWSER as BROWSER,
    CHANNEL as CHANNEL,
    COLUMNS as COLUMNS,
    COUNTRY as COUNTRY,
    DEVICE as DEVICE,
    DIMENSIONS as DIMENSIONS,
    ENTRY as ENTRY,
    LANGUAGE as LANGUAGE,
    LONG_TAILS as LONG_TAILS,
    OS as OS,
    PAGE as PAGE,
    PER_SITE as PER_SITE,
    REFERRER as REFERRER,
    SITE as SITE,
    UTM_CAMPAIGN as UTM_CAMPAIGN,
    UTM_MEDIUM as UTM_MEDIUM,
    UTM_SOURCE as UTM_SOURCE,
    insert_sql,
    scope_of as scope_of,
)

# A hit is stored a moment after its created_at; a day is sealed only this long
# after its midnight, so the rollup does not miss hits still being inserted.
SEAL_GRACE = dt.timedelta(minutes=10)
# Past days the statistics page rolls by itself when nobody runs lambdactr_rollup.
LAZY_DAYS = 2
HOUR = dt.timedelta(hours=1)
# Rollup.period
DAY = "day"
MONTH = "month"


def alias() -> str:
    return router.db_for_write(Rollup) or "default"


def zone_name() -> str:
    return site_days.site_zone().key


def last_sealable(now: dt.datetime | None = None) -> dt.date:
    """The latest day that may be sealed at ``now``."""
    now = now or timezone.now()
    today = site_days.day_of(now)
    yesterday = today - dt.timedelta(days=1)
    if now < site_days.start_of(today) + SEAL_GRACE:
        return yesterday - dt.timedelta(days=1)
    return yesterday


def sealed_runs(
    start: dt.date | None = None, end: dt.date | None = None, *, using: str | None = None
) -> list[tuple[dt.date, dt.date]]:
    """The sealed days from ``start`` to ``end``, as (first, last) runs of consecutive days."""
    sealed = RolledDay.objects.using(using or alias()).filter(zone=zone_name(), until=None)
    if start is not None:
        sealed = sealed.filter(day__gte=start)
    if end is not None:
        sealed = sealed.filter(day__lte=end)
    runs: list[tuple[dt.date, dt.date]] = []
    for day in sealed.order_by("day").values_list("day", flat=True):
        if runs and runs[-1][1] + dt.timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def partial(
    start: dt.date | None = None, end: dt.date | None = None, *, using: str | None = None
) -> dict[dt.date, dt.datetime]:
    """The days from ``start`` to ``end`` rolled up so far, and up to which instant."""
    rolled = RolledDay.objects.using(using or alias()).filter(zone=zone_name(), until__isnull=False)
    if start is not None:
        rolled = rolled.filter(day__gte=start)
    if end is not None:
        rolled = rolled.filter(day__lte=end)
    return {day: until for day, until in rolled.values_list("day", "until") if until is not None}


def hour_mark(day: dt.date, now: dt.datetime | None = None) -> dt.datetime | None:
    """The latest whole hour of ``day`` (counted from its midnight) whose hits may
    be rolled up at ``now``; None before the first."""
    now = now or timezone.now()
    # In UTC: an hour after a midnight is an hour of elapsed time, DST or not.
    midnight = site_days.start_of(day).astimezone(dt.UTC)
    end = site_days.start_of(day + dt.timedelta(days=1)).astimezone(dt.UTC)
    hours = (min(now - SEAL_GRACE, end) - midnight) // HOUR
    if hours < 1:
        return None
    return min(midnight + hours * HOUR, end)


def pending(
    start: dt.date | None = None, end: dt.date | None = None, now: dt.datetime | None = None
) -> list[dt.date]:
    """Days from ``start`` to ``end`` that could be sealed and are not, newest first."""
    using = alias()
    first = (
        HeaderHit.objects.using(using)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if first is None:
        return []
    low = max(site_days.day_of(first), start or dt.date.min)
    high = min(last_sealable(now), end or dt.date.max)
    if low > high:
        return []
    sealed = set(
        RolledDay.objects.using(using)
        .filter(zone=zone_name(), until=None, day__gte=low, day__lte=high)
        .values_list("day", flat=True)
    )
    count = (high - low).days + 1
    return [day for day in (high - dt.timedelta(days=n) for n in range(count)) if day not in sealed]


def drop_other_zones() -> int:
    """Forget the days sealed in another time zone; returns how many."""
    using = alias()
    stale = RolledDay.objects.using(using).exclude(zone=zone_name())
    with transaction.atomic(using=using):
        days = list(stale.values_list("day", flat=True))
        if days:
            forget(days)
    return len(days)


def catch_up(
    start: dt.date | None = None,
    end: dt.date | None = None,
    most: int | None = None,
    progress: Callable[[dt.date, int, int], None] | None = None,
    *,
    months: bool = True,
) -> int:
    """Seal the pending days from ``start`` to ``end`` (at most ``most``, newest
    first), roll up the days not sealable yet up to their latest whole hour and,
    with ``months``, the whole months that became sealed; returns how many days
    were rolled."""
    drop_other_zones()
    todo = pending(start, end)
    if most is not None:
        todo = todo[:most]
    done = roll(todo, progress) + roll_hours(start, end)
    if months:
        roll_months(start, end)
    return done


def month_days(month: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the month of ``month``."""
    first = month.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def sealed_months(
    runs: list[tuple[dt.date, dt.date]], start: dt.date | None = None, end: dt.date | None = None
) -> list[dt.date]:
    """The first days of the months from ``start`` to ``end`` that ``runs`` (of
    sealed days) cover whole."""
    found = []
    for first, last in runs:
        month = first.replace(day=1)
        while month <= last:
            whole = month_days(month)
            inside = (start is None or start <= whole[0]) and (end is None or whole[1] <= end)
            if inside and first <= whole[0] and whole[1] <= last:
                found.append(month)
            month = whole[1] + dt.timedelta(days=1)
    return found


def rolled_months(months: Iterable[dt.date], *, using: str | None = None) -> list[dt.date]:
    """Those of ``months`` (first days) counted in month rows in this time zone."""
    rolled = RolledMonth.objects.using(using or alias()).filter(
        zone=zone_name(), month__in=sorted(set(months))
    )
    return sorted(rolled.values_list("month", flat=True))


def roll_months(start: dt.date | None = None, end: dt.date | None = None) -> int:
    """Count the whole months from ``start`` to ``end`` whose days are all sealed
    and that are not counted yet; returns how many."""
    using = alias()
    whole = sealed_months(sealed_runs(using=using), start, end)
    done = set(rolled_months(whole, using=using))
    todo = [month for month in whole if month not in done]
    for month in todo:
        _roll_month(month)
    return len(todo)


def roll_hours(
    start: dt.date | None = None, end: dt.date | None = None, now: dt.datetime | None = None
) -> int:
    """Roll up today (and yesterday, in the grace after midnight) up to its latest
    whole hour, where that moved on; returns how many days were rolled."""
    now = now or timezone.now()
    today = site_days.day_of(now)
    first = last_sealable(now) + dt.timedelta(days=1)
    days = [
        first + dt.timedelta(days=n)
        for n in range((today - first).days + 1)
        if (start is None or start <= first + dt.timedelta(days=n))
        and (end is None or first + dt.timedelta(days=n) <= end)
    ]
    rolled = partial(min(days), max(days)) if days else {}
    done = 0
    for day in days:
        mark = hour_mark(day, now)
        if mark is not None and rolled.get(day) != mark:
            _roll_day(day, mark)
            done += 1
    return done


def roll(
    days: Iterable[dt.date], progress: Callable[[dt.date, int, int], None] | None = None
) -> int:
    """Count each of ``days`` into Rollup again, whole where it may be sealed and
    so far (``roll_hours``) where not; returns how many were rolled."""
    wanted = set(days)
    newest = last_sealable()
    todo = sorted({day for day in wanted if day <= newest}, reverse=True)
    # Their months' rows would count the hits as they were.
    _forget_months(todo)
    for done, day in enumerate(todo, start=1):
        _roll_day(day)
        if progress is not None:
            progress(day, done, len(todo))
    later = wanted - set(todo)
    return len(todo) + (roll_hours(min(later), max(later)) if later else 0)


def refresh(days: Iterable[dt.date]) -> int:
    """Roll again those of ``days`` that are rolled up: call after their hits changed."""
    return _refresh(dict.fromkeys(days, None))


def refresh_for(instants: Iterable[dt.datetime]) -> int:
    """``refresh`` the days of these ``created_at`` values: after inserting hits
    that may belong to days rolled up already."""
    earliest: dict[dt.date, dt.datetime | None] = {}
    for instant in instants:
        day = site_days.day_of(instant)
        seen = earliest.get(day)
        earliest[day] = instant if seen is None else min(seen, instant)
    return _refresh(earliest)


def _refresh(changed: dict[dt.date, dt.datetime | None]) -> int:
    # changed: day -> the earliest instant that changed (None: any of the day).
    if not changed:
        return 0
    rolled = RolledDay.objects.using(alias()).filter(day__in=set(changed), zone=zone_name())
    sealed = []
    redone = 0
    for day, until in rolled.values_list("day", "until"):
        if until is None:
            sealed.append(day)
            continue
        since = changed[day]
        # A buffered batch of the current hour changes nothing rolled up so far.
        if since is None or since < until:
            _roll_day(day, until)
            redone += 1
    return roll(sealed) + redone


@receiver(hits_stored)
def _stored(sender: object, created_at: Iterable[dt.datetime], **kwargs: Any) -> None:
    # A replayed spool, or a buffered batch flushed after midnight or after
    # the hour of today rolled up so far.
    refresh_for(created_at)


def forget(days: Iterable[dt.date], using: str | None = None) -> None:
    """Unseal ``days``: call in the transaction that deletes their hits."""
    wanted = sorted(set(days))
    using = using or alias()
    with transaction.atomic(using=using):
        # Batches keep the statement's parameter count within SQLite's limit.
        for start in range(0, len(wanted), 500):
            batch = wanted[start : start + 500]
            RolledDay.objects.using(using).filter(day__in=batch).delete()
            Rollup.objects.using(using).filter(period=DAY, day__in=batch).delete()
        _forget_months(wanted, using)


def _forget_months(days: Iterable[dt.date], using: str | None = None) -> None:
    months = sorted({day.replace(day=1) for day in days})
    using = using or alias()
    with transaction.atomic(using=using):
        for start in range(0, len(months), 500):
            batch = months[start : start + 500]
            RolledMonth.objects.using(using).filter(month__in=batch).delete()
            Rollup.objects.using(using).filter(period=MONTH, day__in=batch).delete()


def tidy(*, vacuum: bool = False) -> None:
    """Fresh planner statistics of the rollup table on PostgreSQL, and with
    ``vacuum`` the space of deleted rows back: call after rolling many days.
    The statistics' plans depend on it (at 10 million hits, right after a
    rebuild, a month's lists took 80-100 ms a query instead of 10)."""
    using = alias()
    connection = connections[using]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    table = connection.ops.quote_name(Rollup._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"{'VACUUM (ANALYZE)' if vacuum else 'ANALYZE'} {table}")


def forget_all() -> None:
    using = alias()
    with transaction.atomic(using=using):
        RolledMonth.objects.using(using).all().delete()
        RolledDay.objects.using(using).all().delete()
        Rollup.objects.using(using).all().delete()


def _roll_day(day: dt.date, until: dt.datetime | None = None) -> None:
    using = alias()
    start = site_days.start_of(day)
    end = until or site_days.start_of(day + dt.timedelta(days=1))
    sql, params = insert_sql(using, day, start, end, DAY)
    try:
        with transaction.atomic(using=using):
            # The day's RolledDay row first: a second process rolling the same
            # day waits on it here, then fails on its key and leaves this one's.
            RolledDay.objects.using(using).filter(day=day).delete()
            RolledDay.objects.using(using).create(day=day, zone=zone_name(), until=until)
            Rollup.objects.using(using).filter(period=DAY, day=day).delete()
            with connections[using].cursor() as cursor:
                cursor.execute(sql, params)
    except IntegrityError:
        # Another process sealed the day between our delete and insert: its
        # rows stand, counted from the same hits.
        return


def _roll_month(month: dt.date) -> None:
    using = alias()
    first, last = month_days(month)
    start = site_days.start_of(first)
    end = site_days.start_of(last + dt.timedelta(days=1))
    sql, params = insert_sql(using, first, start, end, MONTH)
    try:
        with transaction.atomic(using=using):
            # As in _roll_day: the RolledMonth row first, so two processes
            # rolling the same month do not both insert its rows.
            RolledMonth.objects.using(using).filter(month=first).delete()
            RolledMonth.objects.using(using).create(month=first, zone=zone_name())
            Rollup.objects.using(using).filter(period=MONTH, day=first).delete()
            with connections[using].cursor() as cursor:
                cursor.execute(sql, params)
    except IntegrityError:
        return
