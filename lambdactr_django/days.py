"""The calendar: days in the site's time zone. Visitor-days end, rollups seal and
statistics split at its midnights; every part of the counter asks here."""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo

from django.conf import settings
from django.utils import timezone

from lambdactr_django.conf import conf


def site_zone() -> zoneinfo.ZoneInfo:
    """``LAMBDACTR_TIME_ZONE``, else the project's ``TIME_ZONE``, else UTC."""
    name: object = conf.TIME_ZONE or settings.TIME_ZONE or "UTC"
    try:
        return zoneinfo.ZoneInfo(name)  # type: ignore[arg-type]
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        # lambdactr_django.E009 reports the bad name; the beacon must not fail on it.
        return zoneinfo.ZoneInfo("UTC")


def today() -> dt.date:
    return timezone.localdate(timezone=site_zone())


def day_of(instant: dt.datetime) -> dt.date:
    """The site's calendar day of an aware instant."""
    return instant.astimezone(site_zone()).date()


def start_of(day: dt.date) -> dt.datetime:
    """The aware instant the day begins in the site's time zone."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=site_zone())


def seconds_until_midnight(now: dt.datetime | None = None) -> int:
    """Whole seconds from ``now`` to the next midnight in the site's time zone, at least 1."""
    zone = site_zone()
    local = (now or timezone.now()).astimezone(zone)
    # Computed on aware UTC instants so a DST change that day gives the true length.
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    seconds = (midnight.astimezone(dt.UTC) - local.astimezone(dt.UTC)).total_seconds()
    return max(1, math.ceil(seconds))


# No hit is older: their times are the server's own. Asked-for days are kept
# between this and tomorrow, so no day arithmetic can leave the calendar
# Python holds (``dt.date.max + 1 day`` is an OverflowError, a 500).
FIRST_DAY = dt.date(1970, 1, 1)


def clamp(day: dt.date) -> dt.date:
    """``day``, moved into the days that can hold hits: from 1970 to tomorrow."""
    return min(max(day, FIRST_DAY), today() + dt.timedelta(days=1))


def last_days(count: int) -> tuple[dt.date, dt.date]:
    """The first and last day of the ``count`` days ending today (at most since 1970)."""
    end = today()
    count = max(1, min(count, (end - FIRST_DAY).days + 1))
    return end - dt.timedelta(days=count - 1), end
