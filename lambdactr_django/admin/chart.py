"""The views-and-visitors chart, drawn on the server as SVG: no JavaScript, and the
colours are the admin's CSS variables (see static/lambdactr_django/admin/statistics.css)
so it follows the light and dark themes."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from lambdactr_django.admin.numbers import count
from lambdactr_django.stats.results import Day

WIDTH = 960
HEIGHT = 240
LEFT = 56  # room for the y-axis numbers
RIGHT = 8
TOP = 12
BOTTOM = 28  # room for the dates
MAX_DATE_LABELS = 8
MAX_BAR_WIDTH = 48  # a week's bars would otherwise be slabs


def bar_chart(series: Sequence[Day], previous: Sequence[Day] | None = None) -> SafeString:
    """Bars of views per day with narrower bars of visitors in front of them, and
    behind them, faint and wider, the views of the previous period's same day."""
    before = list(previous or [])
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    top = nice_ceiling(max((max(d.views, d.visitors) for d in [*series, *before]), default=0))
    slot = plot_width / max(len(series), 1)
    bar = min(slot * 0.8, MAX_BAR_WIDTH)
    wide = min(slot * 0.95, MAX_BAR_WIDTH * 1.25)

    def y(value: int) -> float:
        return TOP + plot_height * (1 - value / top)

    ticks = axis_ticks(top)
    grid = format_html_join(
        "",
        '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
        '<text class="axis" x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}</text>',
        ((LEFT, WIDTH - RIGHT, _n(y(t)), _n(y(t)), LEFT - 6, _n(y(t)), count(t)) for t in ticks),
    )
    bars = format_html_join(
        "",
        "<g><title>{}</title>{}"
        '<rect class="views" x="{}" y="{}" width="{}" height="{}"/>'
        '<rect class="visitors" x="{}" y="{}" width="{}" height="{}"/></g>',
        (
            (
                _tooltip(d, before[i] if i < len(before) else None),
                _previous_bar(before[i], LEFT + (i + 0.5) * slot, wide, y)
                if i < len(before)
                else "",
                _n(LEFT + (i + 0.5) * slot - bar / 2),
                _n(y(d.views)),
                _n(bar),
                _n(TOP + plot_height - y(d.views)),
                _n(LEFT + (i + 0.5) * slot - bar / 4),
                _n(y(d.visitors)),
                _n(bar / 2),
                _n(TOP + plot_height - y(d.visitors)),
            )
            for i, d in enumerate(series)
        ),
    )
    every = max(1, math.ceil(len(series) / MAX_DATE_LABELS))
    dates = format_html_join(
        "",
        '<text class="axis" x="{}" y="{}" text-anchor="middle">{}</text>',
        (
            (_n(LEFT + i * slot + slot / 2), HEIGHT - 8, d.day.strftime("%b %-d"))
            for i, d in enumerate(series)
            if i % every == 0
        ),
    )
    described = (
        "Views and visitors per day, and the previous period's views behind them; "
        "the table below has the numbers."
        if before
        else "Views and visitors per day; the table below has the numbers."
    )
    return format_html(
        '<svg class="lambdactr-chart" viewBox="0 0 {} {}" role="img" aria-labelledby="{}">'
        '<title id="{}">{}</title>'
        '{}<line class="baseline" x1="{}" x2="{}" y1="{}" y2="{}"/>{}{}</svg>',
        WIDTH,
        HEIGHT,
        "lambdactr-chart-title",
        "lambdactr-chart-title",
        described,
        grid,
        LEFT,
        WIDTH - RIGHT,
        TOP + plot_height,
        TOP + plot_height,
        bars,
        dates,
    )


def _tooltip(day: Day, before: Day | None) -> str:
    text = f"{day.day.isoformat()}: {count(day.views)} views, {count(day.visitors)} visitors"
    if before is not None:
        text += f"; previous period, {before.day.isoformat()}: {count(before.views)} views"
    return text


def _previous_bar(day: Day, centre: float, width: float, y: Callable[[int], float]) -> SafeString:
    return format_html(
        '<rect class="previous" x="{}" y="{}" width="{}" height="{}"/>',
        _n(centre - width / 2),
        _n(y(day.views)),
        _n(width),
        _n(y(0) - y(day.views)),
    )


@dataclass(frozen=True, slots=True)
class DayRow:
    day: Day
    # The previous period's day at the same place, when compared.
    previous: Day | None


def day_rows(series: Sequence[Day], previous: Sequence[Day] | None = None) -> list[DayRow]:
    """The chart's table: each day beside the previous period's day it is drawn over."""
    before = list(previous or [])
    return [DayRow(d, before[i] if i < len(before) else None) for i, d in enumerate(series)]


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2 or 5 times a power of ten that is at least ``value`` (min 1)."""
    if value <= 1:
        return 1
    power = int(10 ** math.floor(math.log10(value)))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def axis_ticks(top: int) -> list[int]:
    """Whole-number gridlines from 0 to ``top``, at most six."""
    for divisions in (4, 5, 2):
        if top % divisions == 0:
            return [top * i // divisions for i in range(divisions + 1)]
    return list(range(top + 1)) if top <= 5 else [0, top]


def _n(value: float) -> str:
    # Two decimals keep the markup small and are finer than any screen.
    return f"{value:.2f}".rstrip("0").rstrip(".")
