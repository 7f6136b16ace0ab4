from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.utils import translation

from lambdactr_django.admin import numbers
from lambdactr_django.admin.headline import UNKNOWN_NOTE, headlines
from lambdactr_django.stats import Report


def _report(views: int, visitors: int, **more: object) -> Report:
    report = Report(
        start=dt.date(2026, 11, 24),
        end=dt.date(2026, 11, 30),
        traffic="human",
        views=views,
        visitors=visitors,
        days=[],
        pages=[],
        referrers=[],
        browsers=[],
        systems=[],
        devices=[],
        traffic_classes=[],
        bot_reasons=[],
        channels=[],
        sources=[],
        mediums=[],
        campaigns=[],
        entry_pages=[],
        languages=[],
        countries=[],
        visits=visitors,
        bounces=0,
        bounce_rate=None,
        views_per_visit=None,
    )
    return dataclasses.replace(report, **more)  # type: ignore[arg-type]


def _link(**lookups: str) -> str:
    return f"/list/?kind={lookups['kind']}"


def test_the_numbers_in_order() -> None:
    shown = headlines(_report(1234, 56, bounce_rate=0.5, views_per_visit=22.0), None, _link)
    assert [(h.label, h.text, h.url, h.change) for h in shown] == [
        ("views", "1,234", "/list/?kind=view", None),
        ("visitors", "56", "/list/?kind=visitor", None),
        ("bounce rate", "50%", "", None),
        ("views per visit", "22", "", None),
    ]


def test_a_number_not_known_is_a_dash_with_the_reason() -> None:
    shown = headlines(_report(10, 0, visits=0), _report(8, 5, bounce_rate=0.2), _link)
    assert [(h.name, h.text, h.unknown, h.change) for h in shown[2:]] == [
        ("bounce_rate", "—", UNKNOWN_NOTE, None),
        ("views_per_visit", "—", UNKNOWN_NOTE, None),
    ]


def test_rates_change_in_points_and_ratios_in_percent() -> None:
    now = _report(10, 5, visits=8, bounce_rate=0.25, views_per_visit=1.25)
    before = _report(10, 5, visits=4, bounce_rate=0.4, views_per_visit=2.5)
    shown = {h.name: h for h in headlines(now, before, _link)}
    assert "visits" not in shown
    assert (shown["bounce_rate"].text, shown["bounce_rate"].change) == (
        "25%",
        numbers.Change("\u221215 pp", "down"),
    )
    assert (shown["views_per_visit"].text, shown["views_per_visit"].change) == (
        "1.2",
        numbers.Change("\u221250%", "down"),
    )
    assert (
        shown["bounce_rate"].change_title == "Previous period (24 Nov 2026 \u2013 30 Nov 2026): 40%"
    )


@pytest.mark.parametrize(
    ("current", "previous", "text", "direction"),
    [
        (3, 2, "+50%", "up"),
        (1, 4, "\u221275%", "down"),
        (5, 0, "new", "up"),
        (0, 0, "—", "same"),
        (1000, 999, "±0%", "same"),
        (2500, 100, "+2,400%", "up"),
    ],
)
def test_change(current: int, previous: int, text: str, direction: str) -> None:
    assert numbers.change(current, previous) == numbers.Change(text, direction)


def test_numbers_in_the_locale() -> None:
    assert (numbers.count(1234567), numbers.percent(0.125, 1), numbers.count(None)) == (
        "1,234,567",
        "12.5%",
        "—",
    )
    with translation.override("de"):
        assert (numbers.count(1234567), numbers.percent(0.125, 1)) == ("1.234.567", "12,5%")
    with translation.override("fr"):
        assert numbers.count(1234567) == "1\xa0234\xa0567"
