from __future__ import annotations

import datetime as dt

import pytest

from lambdactr_django.admin.chart import axis_ticks, bar_chart, nice_ceiling
from lambdactr_django.stats import Day


@pytest.mark.parametrize(
    ("value", "ceiling"), [(0, 1), (1, 1), (3, 5), (7, 10), (11, 20), (39, 50), (120, 200)]
)
def test_nice_ceiling(value: int, ceiling: int) -> None:
    assert nice_ceiling(value) == ceiling


@pytest.mark.parametrize(
    ("top", "ticks"),
    [(1, [0, 1]), (2, [0, 1, 2]), (5, [0, 1, 2, 3, 4, 5]), (20, [0, 5, 10, 15, 20])],
)
def test_axis_ticks(top: int, ticks: list[int]) -> None:
    assert axis_ticks(top) == ticks


def test_one_bar_pair_per_day_with_a_tooltip() -> None:
    series = [Day(dt.date(2025, 1, d), views=d * 2, visitors=d) for d in range(1, 4)]
    svg = str(bar_chart(series))
    assert svg.count('class="views"') == 3
    assert svg.count('class="visitors"') == 3
    assert "<title>2025-01-03: 6 views, 3 visitors</title>" in svg
    assert 'role="img"' in svg


def test_the_tallest_bar_fills_the_plot() -> None:
    svg = str(bar_chart([Day(dt.date(2025, 1, 1), views=10, visitors=0)]))
    # Plot from y=12 to y=212: a value equal to the axis top is 200 high. The
    # one slot is 896 wide, its bar capped at 48 and centred on x=504.
    assert 'class="views" x="480" y="12" width="48" height="200"' in svg
    assert 'class="visitors" x="492" y="212" width="24" height="0"' in svg


def test_colours_come_from_css_not_from_the_markup() -> None:
    svg = str(bar_chart([Day(dt.date(2025, 1, 1), views=1, visitors=1)]))
    assert "fill=" not in svg
    assert "#" not in svg
