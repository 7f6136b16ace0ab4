"""Imported history counts in the statistics as the raw hits say, sealed days included."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from lambdactr_django import days, stats
from lambdactr_django.models import RolledDay
from lambdactr_django.stats import rollups
from tests.hits import GOOGLEBOT, make_hit
from tests.logs.sample import combined, write

pytestmark = pytest.mark.django_db

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _logged(moment: dt.datetime) -> str:
    # As nginx writes $time_local on a server in UTC+02:00.
    local = moment.astimezone(dt.timezone(dt.timedelta(hours=2)))
    return f"{local.day:02d}/{MONTHS[local.month - 1]}/{local.year}:{local:%H:%M:%S} +0200"


def _comparable(report: stats.Report) -> dict[str, object]:
    return dataclasses.asdict(report)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin"])
def test_an_imported_past_day_is_counted_right(tmp_path: Path, zone: str) -> None:
    with override_settings(LAMBDACTR_TIME_ZONE=zone):
        sealed = days.today() - dt.timedelta(days=5)
        unsealed = sealed - dt.timedelta(days=1)
        noon = days.start_of(sealed) + dt.timedelta(hours=12)
        # The beacon counted two views that day, and the day was sealed since.
        make_hit(when=noon, path="/beacon/")
        make_hit(when=noon, path="/both/")
        rollups.roll([sealed])
        assert RolledDay.objects.filter(day=sealed, until=None).exists()

        # The day's access log, and the day before's, from before the counter.
        first_second = days.start_of(sealed)
        last_second = days.start_of(sealed + dt.timedelta(days=1)) - dt.timedelta(seconds=1)
        log = write(
            tmp_path / "access.log",
            [
                combined("/both/", when=_logged(first_second)),
                combined("/imported/", when=_logged(noon)),
                combined("/imported/", when=_logged(last_second)),
                combined("/imported/", when=_logged(noon), user_agent=GOOGLEBOT),
                combined("/older/", when=_logged(days.start_of(unsealed))),
                # A second past the day: the next day's.
                combined("/next/", when=_logged(last_second + dt.timedelta(seconds=1))),
            ],
        )
        out = io.StringIO()
        call_command("lambdactr_import_log", str(log), "--site", "blog.example", stdout=out)

        # The days imported into are rolled up, the sealed one again.
        assert set(RolledDay.objects.filter(until=None).values_list("day", flat=True)) >= {
            unsealed,
            sealed,
        }
        everything = stats.report_for("blog.example", sealed, sealed, verified=None)
        assert everything.views == 5
        assert {row.label: row.views for row in everything.pages} == {
            "blog.example/imported/": 2,
            "blog.example/both/": 2,
            "blog.example/beacon/": 1,
        }
        bots = stats.report_for("blog.example", sealed, sealed, verified=None, traffic="bot")
        assert bots.views == 1
        # By default only the beacon's verified hits: the imported ones are not.
        assert stats.report_for("blog.example", sealed, sealed).views == 2
        assert stats.report_for("blog.example", sealed, sealed, verified=False).views == 3

        # Rollups and raw hits agree over the whole range, for every signature.
        start, end = unsealed, sealed + dt.timedelta(days=1)
        for verified in (None, True, False):
            raw = stats.report(
                stats.select("blog.example", start, end, verified=verified),
                stats.Traffic.HUMAN,
                start,
                end,
            )
            assert _comparable(
                stats.report_for("blog.example", start, end, verified=verified)
            ) == _comparable(raw)
        per_day = {
            day.day: day.views
            for day in stats.report_for("blog.example", start, end, verified=None).days
        }
        assert per_day == {unsealed: 1, sealed: 5, sealed + dt.timedelta(days=1): 1}
