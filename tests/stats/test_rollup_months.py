"""Whole months counted once: the statistics of ranges of many months read a
month's rows instead of its days', with the same answers as the raw hits."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.core.management import call_command
from django.test import override_settings

from lambdactr_django import days, stats
from lambdactr_django.models import HeaderHit, RolledMonth, Rollup
from lambdactr_django.stats import rollups
from lambdactr_django.store import buffer, rows
from tests.stats import test_rollups as randomized

pytestmark = pytest.mark.django_db

# Two whole months at least, whatever today's date.
SPAN_DAYS = 75


@pytest.fixture(autouse=True)
def _long_span(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(randomized, "SPAN_DAYS", SPAN_DAYS)


def _whole_months() -> list[dt.date]:
    first = days.today() - dt.timedelta(days=SPAN_DAYS - 1)
    return rollups.sealed_months([(first, rollups.last_sealable())])


def _month_cases(months: list[dt.date]) -> list[dict[str, object]]:
    base = {"site": None, "kind": None, "verified": True, "traffic": stats.Traffic.HUMAN}
    first, last = months[0], rollups.month_days(months[-1])[1]
    return [
        # Exactly the whole months, then with days on either side.
        {**base, "start": first, "end": last, "limit": 10},
        {**base, "start": first - dt.timedelta(days=3), "end": None, "limit": 3},
        {**base, "start": None, "end": last + dt.timedelta(days=2), "limit": 1},
        {**base, "start": first, "end": last, "traffic": stats.Traffic.ALL, "limit": 2},
        {**base, "start": first, "end": last, "verified": None, "kind": "view", "limit": 10},
        {**base, "site": "blog.example", "start": first, "end": last, "limit": 10},
    ]


def _assert_cases_agree(rng: random.Random) -> None:
    for filters in _month_cases(_whole_months()):
        rolled = stats.report_for(**filters)  # type: ignore[arg-type]
        raw = randomized._raw(filters)
        if any(rolled.unlisted.values()):
            randomized._assert_within(rolled, raw, randomized._raw({**filters, "limit": 10**6}))
        else:
            assert rolled == raw, filters
    randomized._assert_agree(rng, 10)


@pytest.mark.parametrize("seed", range(2))
def test_whole_months_answer_as_the_raw_hits(seed: int) -> None:
    rng = random.Random(100 + seed)
    with override_settings(TIME_ZONE=randomized.ZONES[seed * 3], LAMBDACTR_ROLLUP_KEEP=2):
        HeaderHit.objects.bulk_create(randomized._random_hits(rng, 500))
        rollups.catch_up()
        months = _whole_months()
        assert len(months) >= 2
        assert rollups.rolled_months(months) == months
        assert Rollup.objects.filter(period=rollups.MONTH, day__in=months).exists()
        _assert_cases_agree(rng)


def test_the_month_rows_are_what_is_read() -> None:
    # Proof that the comparison above can fail: without the days' rows of the
    # lists, a range of whole months still lists every value.
    rng = random.Random(110)
    HeaderHit.objects.bulk_create(randomized._random_hits(rng, 400))
    rollups.catch_up()
    months = _whole_months()
    first, last = months[0], rollups.month_days(months[-1])[1]
    filters = {"start": first, "end": last, "traffic": stats.Traffic.ALL}
    before = stats.report_for(**filters)
    days_rows = Rollup.objects.filter(period=rollups.DAY, day__gte=first, day__lte=last)
    days_rows.exclude(dimension=rollups.DEVICE).delete()
    assert stats.report_for(**filters) == before
    # And the days' device rows still give the per-day series.
    days_rows.delete()
    assert stats.report_for(**filters).days != before.days


def test_a_late_hit_unrolls_its_month_until_it_is_rolled_again() -> None:
    rng = random.Random(111)
    HeaderHit.objects.bulk_create(randomized._random_hits(rng, 300))
    rollups.catch_up()
    months = _whole_months()
    late = HeaderHit(
        created_at=days.start_of(months[0] + dt.timedelta(days=4)) + dt.timedelta(hours=9),
        site="blog.example",
        path="/late/",
        kind="view",
        verified=True,
    )
    # Stored as a buffered batch flushed late: the store announces it.
    assert buffer.store_batch([rows.record_of(late)]) == 1
    assert rollups.rolled_months(months) == months[1:]
    _assert_cases_agree(rng)
    call_command("lambdactr_rollup", stdout=_Null())
    assert rollups.rolled_months(months) == months
    _assert_cases_agree(rng)


def test_forgetting_a_day_forgets_its_month() -> None:
    rng = random.Random(112)
    HeaderHit.objects.bulk_create(randomized._random_hits(rng, 200))
    rollups.catch_up()
    months = _whole_months()
    rollups.forget([months[-1] + dt.timedelta(days=10)])
    assert rollups.rolled_months(months) == months[:-1]
    assert not Rollup.objects.filter(period=rollups.MONTH, day=months[-1]).exists()
    assert RolledMonth.objects.filter(month=months[0]).exists()
    _assert_cases_agree(rng)


def test_the_statistics_page_leaves_months_to_the_cron_job(admin_client: object) -> None:
    rng = random.Random(113)
    HeaderHit.objects.bulk_create(randomized._random_hits(rng, 100))
    rollups.catch_up(months=False)
    assert not RolledMonth.objects.exists()
    response = admin_client.get("/admin/lambdactr_django/headerhit/statistics/?when=12m")  # type: ignore[attr-defined]
    assert response.status_code == 200
    assert not RolledMonth.objects.exists()
    call_command("lambdactr_rollup", stdout=_Null())
    assert RolledMonth.objects.exists()


class _Null:
    def write(self, text: str) -> None:
        pass
