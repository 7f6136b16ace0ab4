"""The headline numbers of the statistics page, each with its change against the
previous period of as many days.

A number the report has as None (not known for this selection) is shown as
"—" with the reason. Visits are not among them: a visit is a visitor-day
(docs/visits.md), so the number would be the visitors' again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.dateformat import format as date_format

from lambdactr_django import stats
from lambdactr_django.admin import numbers
from lambdactr_django.hits import Kind


@dataclass(frozen=True, slots=True)
class Metric:
    name: str  # the Report's attribute
    label: str
    style: str  # "count", "percent" (a fraction) or "ratio"
    # The kind of hit the number counts, for a link to the hit list ("" none).
    kind: str = ""


METRICS = (
    Metric("views", "views", "count", Kind.VIEW),
    Metric("visitors", "visitors", "count", Kind.VISITOR_DAY),
    Metric("bounce_rate", "bounce rate", "percent"),
    Metric("views_per_visit", "views per visit", "ratio"),
)

UNKNOWN_NOTE = "Not known for this selection: it counted no visits to divide by."


@dataclass(frozen=True, slots=True)
class Headline:
    name: str
    label: str
    text: str
    url: str
    # Why the number is "—"; empty when it is known.
    unknown: str
    change: numbers.Change | None
    # The previous period's number, said in the change's title.
    change_title: str


def headlines(
    report: stats.Report,
    previous: stats.Report | None,
    link: Callable[..., str],
) -> list[Headline]:
    """The report's headline numbers, in METRICS' order, and their changes."""
    shown = []
    for metric in METRICS:
        value = getattr(report, metric.name)
        before = getattr(previous, metric.name, None) if previous is not None else None
        change = None
        title = ""
        if value is not None and before is not None and previous is not None:
            change = numbers.change(value, before, points=metric.style == "percent")
            days = period_text(previous.start, previous.end)
            title = f"Previous period ({days}): {_text(metric, before)}"
        shown.append(
            Headline(
                name=metric.name,
                label=metric.label,
                text=_text(metric, value),
                url=link(kind=metric.kind) if metric.kind and value is not None else "",
                unknown=UNKNOWN_NOTE if value is None else "",
                change=change,
                change_title=title,
            )
        )
    return shown


def _text(metric: Metric, value: float | None) -> str:
    if metric.style == "percent":
        return numbers.percent(value)
    if metric.style == "ratio" and value is not None:
        return numbers.count(round(float(value), 1))
    return numbers.count(value)


def period_text(start: dt.date | None, end: dt.date | None) -> str:
    """E.g. "1 Dec 2026", "24 Nov 2026 to 30 Nov 2026" (with an en dash), "All dates"."""
    if start and end:
        if start == end:
            return _day(start)
        return f"{_day(start)} \u2013 {_day(end)}"
    if start:
        return f"Since {_day(start)}"
    if end:
        return f"Until {_day(end)}"
    return "All dates"


def _day(day: dt.date) -> str:
    return str(date_format(day, "j M Y"))
