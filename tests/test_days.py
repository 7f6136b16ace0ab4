from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from lambdactr_django import days

UTC = dt.UTC


@override_settings(TIME_ZONE="UTC")
def test_seconds_until_midnight_in_utc() -> None:
    now = dt.datetime(2025, 3, 1, 23, 0, 0, tzinfo=UTC)
    assert days.seconds_until_midnight(now) == 3600


@override_settings(TIME_ZONE="UTC", LAMBDACTR_TIME_ZONE="Europe/Paris")
def test_the_counter_time_zone_wins_over_time_zone() -> None:
    # 22:00 UTC is 23:00 in Paris in winter: one hour to its midnight.
    now = dt.datetime(2025, 1, 15, 22, 0, 0, tzinfo=UTC)
    assert days.seconds_until_midnight(now) == 3600


@override_settings(LAMBDACTR_TIME_ZONE="Europe/Paris")
def test_a_short_day_is_counted_in_real_seconds() -> None:
    # 30 March 2025 has 23 hours in Paris; from 00:00 local there are 23 hours left.
    now = dt.datetime(2025, 3, 29, 23, 0, 0, tzinfo=UTC)
    assert days.seconds_until_midnight(now) == 23 * 3600


@override_settings(TIME_ZONE="UTC")
def test_never_zero() -> None:
    now = dt.datetime(2025, 3, 1, 23, 59, 59, 999_999, tzinfo=UTC)
    assert days.seconds_until_midnight(now) == 1


@override_settings(LAMBDACTR_TIME_ZONE="Not/AZone")
def test_a_bad_zone_falls_back_to_utc_rather_than_fail() -> None:
    assert days.site_zone().key == "UTC"


@pytest.mark.parametrize(("count", "span"), [(1, 0), (7, 6), (30, 29)])
def test_last_days_ends_today(count: int, span: int) -> None:
    start, end = days.last_days(count)
    assert end == days.today()
    assert (end - start).days == span
