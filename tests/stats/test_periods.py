from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lambdactr_django import days
from lambdactr_django.models import HeaderHit
from lambdactr_django.stats import periods, rollups
from tests.hits import make_hit

D = dt.date


@pytest.mark.parametrize(
    ("preset", "today", "expected"),
    [
        ("today", D(2026, 12, 2), (D(2026, 12, 2), D(2026, 12, 2))),
        ("yesterday", D(2026, 12, 1), (D(2026, 11, 30), D(2026, 11, 30))),
        ("7d", D(2026, 12, 2), (D(2026, 11, 26), D(2026, 12, 2))),
        ("30d", D(2026, 12, 2), (D(2026, 11, 3), D(2026, 12, 2))),
        ("month", D(2026, 12, 2), (D(2026, 12, 1), D(2026, 12, 2))),
        ("lastmonth", D(2026, 3, 15), (D(2026, 2, 1), D(2026, 2, 28))),
        ("lastmonth", D(2026, 1, 5), (D(2025, 12, 1), D(2025, 12, 31))),
        ("12m", D(2026, 12, 2), (D(2025, 12, 3), D(2026, 12, 2))),
        # A year back from 29 February is 28 February.
        ("12m", D(2028, 2, 29), (D(2027, 3, 1), D(2028, 2, 29))),
    ],
)
def test_preset_days(preset: str, today: dt.date, expected: tuple[dt.date, dt.date]) -> None:
    assert periods.preset_days(preset, today) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D(2026, 12, 2), D(2026, 12, 2), (D(2026, 12, 1), D(2026, 12, 1))),
        (D(2026, 11, 26), D(2026, 12, 2), (D(2026, 11, 19), D(2026, 11, 25))),
        # Last month (30 days) against the 30 days before it, not "the month before".
        (D(2026, 11, 1), D(2026, 11, 30), (D(2026, 10, 2), D(2026, 10, 31))),
        (None, D(2026, 12, 2), None),
        (D(2026, 12, 2), None, None),
        (days.FIRST_DAY, D(2026, 12, 2), None),
    ],
)
def test_previous_has_as_many_days(
    start: dt.date | None, end: dt.date | None, expected: tuple[dt.date, dt.date] | None
) -> None:
    before = periods.previous(start, end)
    assert before == expected
    if before is not None and start and end:
        assert (before[1] - before[0]) == (end - start)


@override_settings(TIME_ZONE="UTC", LAMBDACTR_TIME_ZONE="Pacific/Kiritimati")
def test_today_is_the_site_zone_s_day(monkeypatch: pytest.MonkeyPatch) -> None:
    # 20:00 UTC on 1 December is 10:00 on 2 December at UTC+14.
    instant = dt.datetime(2026, 12, 1, 20, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: instant)
    assert periods.preset_days("today") == (D(2026, 12, 2), D(2026, 12, 2))
    assert periods.preset_days("yesterday") == (D(2026, 12, 1), D(2026, 12, 1))


def _sealed_week() -> tuple[dt.date, dt.date]:
    today = days.today()
    start, end = today - dt.timedelta(days=14), today - dt.timedelta(days=8)
    for days_ago in (8, 9, 14):
        make_hit(days_ago=days_ago)
    rollups.roll([start + dt.timedelta(days=n) for n in range(7)])
    return start, end


@pytest.mark.django_db
def test_a_sealed_past_period_is_counted_once_until_it_is_rolled_again() -> None:
    start, end = _sealed_week()
    arguments = (None, start, end, None, True, "human", 1)
    assert periods.report_before(*arguments).views == 3
    with CaptureQueriesContext(connection) as queries:
        assert periods.report_before(*arguments).views == 3
    # Only the question "are these days sealed as before?".
    assert len(queries) == 1
    # A delete rolls its day again (as the admin and lambdactr_prune do): counted anew.
    HeaderHit.objects.filter(created_at__lt=days.start_of(start + dt.timedelta(days=1))).delete()
    rollups.refresh([start])
    assert periods.report_before(*arguments).views == 2
    # Another question is another answer.
    assert periods.report_before(None, start, end, None, True, "bot", 1).views == 0


@pytest.mark.django_db
def test_a_period_not_all_sealed_is_counted_every_time() -> None:
    start, end = _sealed_week()
    rollups.forget([end])
    arguments = (None, start, end, None, True, "human", 1)
    assert periods.report_before(*arguments).views == 3
    make_hit(days_ago=8)
    assert periods.report_before(*arguments).views == 4
