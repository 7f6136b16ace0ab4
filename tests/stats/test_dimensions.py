"""The report's visits, bounces, entry pages, channels, campaigns, languages and
countries, from raw hits and from rollups alike."""

from __future__ import annotations

import datetime as dt

import pytest

from lambdactr_django import days, stats
from lambdactr_django.models import Rollup
from lambdactr_django.stats import rollups
from tests.hits import make_hit

pytestmark = pytest.mark.django_db


def _visits() -> None:
    # Three visits: one with a second view, two bounces.
    make_hit(kind="visitor", path="/", days_ago=2, language="en-US", country="DE")
    make_hit(kind="second", path="/a/", days_ago=2, language="en-US", country="DE")
    make_hit(kind="visitor", path="/", days_ago=2, utm_campaign="launch", language="de")
    make_hit(kind="visitor", path="/landing/", days_ago=2, country="NZ")
    for path, channel, referrer_host, campaign in [
        ("/", "search", "www.google.com", ""),
        ("/a/", "", "", ""),
        ("/a/", "", "", ""),
        ("/", "email", "", "launch"),
        ("/landing/", "social", "bsky.app", ""),
    ]:
        make_hit(
            path=path,
            channel=channel,
            referrer_host=referrer_host,
            utm_campaign=campaign,
            utm_medium="email" if campaign else "",
            days_ago=2,
            language="en-US",
        )


def _both() -> tuple[stats.Report, stats.Report]:
    raw = stats.report(stats.select(), start=None, end=None)
    rollups.catch_up()
    rolled = stats.report_for()
    return raw, rolled


def test_visits_bounces_and_views_per_visit() -> None:
    _visits()
    for report in _both():
        assert (report.visits, report.bounces, report.views) == (3, 2, 5)
        assert report.bounce_rate == pytest.approx(2 / 3)
        assert report.views_per_visit == pytest.approx(5 / 3)


def test_no_visits_no_rates() -> None:
    make_hit()
    report = stats.report(stats.select())
    assert (report.visits, report.bounce_rate, report.views_per_visit) == (0, None, None)


def test_a_second_view_without_its_first_is_no_negative_bounce() -> None:
    make_hit(kind="second")
    report = stats.report(stats.select())
    assert (report.visits, report.bounces) == (0, 0)


def test_entry_pages_count_visits() -> None:
    _visits()
    for report in _both():
        assert [(row.label, row.views, row.visitors) for row in report.entry_pages] == [
            ("blog.example/", 2, 2),
            ("blog.example/landing/", 1, 1),
        ]


def test_channels_and_the_direct_or_internal_rest() -> None:
    _visits()
    for report in _both():
        assert [(row.label, row.views, row.visitors) for row in report.channels] == [
            ("", 2, None),
            ("email", 1, None),
            ("search", 1, None),
            ("social", 1, None),
        ]
        assert report.channels[0].lookups == {"channel": ""}


def test_campaigns_count_views_and_visits() -> None:
    _visits()
    for report in _both():
        assert [(row.label, row.views, row.visitors) for row in report.campaigns] == [
            ("launch", 1, 1)
        ]
        assert [(row.label, row.views, row.visitors) for row in report.mediums] == [("email", 1, 0)]
        assert report.sources == []


def test_languages_and_countries() -> None:
    _visits()
    for report in _both():
        assert [(row.label, row.views, row.visitors) for row in report.languages] == [
            ("en-US", 5, 1),
            ("de", 0, 1),
        ]
        assert [(row.label, row.views, row.visitors) for row in report.countries] == [
            ("DE", 0, 1),
            ("NZ", 0, 1),
        ]


def test_the_dimensions_are_rolled_up() -> None:
    _visits()
    rollups.catch_up()
    dimensions = set(
        Rollup.objects.filter(day=days.today() - dt.timedelta(days=2))
        .values_list("dimension", flat=True)
        .distinct()
    )
    assert {"entry", "channel", "utm_campaign", "utm_medium", "language", "country"} <= dimensions
    assert "utm_source" not in dimensions
