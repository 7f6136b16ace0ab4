"""Calendar days in the site's time zone: visitor-days end, and statistics split, at midnight."""

from __future__ import annotations

import datetime as dt
import math

from django.utils import timezone

from lambdactr_django.conf import conf


def today() -> dt.date:
    return timezone.localdate(timezone=conf.site_zone())


def start_of(day: dt.date) -> dt.datetime:
    """The aware instant the day begins in the site's time zone."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=conf.site_zone())


def seconds_until_midnight(now: dt.datetime | None = None) -> int:
    """Whole seconds from ``now`` to the next midnight in the site's time zone, at least 1."""
    zone = conf.site_zone()
    local = (now or timezone.now()).astimezone(zone)
    # Computed on aware UTC instants so a DST change that day gives the true length.
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    seconds = (midnight.astimezone(dt.UTC) - local.astimezone(dt.UTC)).total_seconds()
    return max(1, math.ceil(seconds))


def last_days(count: int) -> tuple[dt.date, dt.date]:
    """The first and last day of the ``count`` days ending today."""
    end = today()
    return end - dt.timedelta(days=count - 1), end
