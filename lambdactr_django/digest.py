"""The e-mail digest: a period's statistics against the period before, as one message.

Counted by lambdactr_django.stats like the statistics page; lambdactr_email
sends it, the host's cron says when.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse

from lambdactr_django import days, stats
from lambdactr_django.conf import conf
from lambdactr_django.stats import rollups

# Top lists a Report may have (newer versions count more): shown where present.
OPTIONAL_SECTIONS = (
    ("sources", "Top sources", "Source"),
    ("campaigns", "Top campaigns", "Campaign"),
)
STATISTICS_VIEW = "admin:lambdactr_django_headerhit_statistics"
TOP_ROWS = 10


@dataclass(frozen=True)
class Change:
    now: int
    before: int

    @property
    def text(self) -> str:
        """The change in words: "+12%", "-5%", "no change" or "new"."""
        if self.now == self.before:
            return "no change"
        if self.before == 0:
            return "new"
        percent = round((self.now - self.before) * 100 / self.before)
        if percent == 0:
            return "+0%" if self.now > self.before else "-0%"
        return f"{percent:+d}%"


@dataclass(frozen=True)
class Section:
    title: str
    column: str
    # (label, views) of each row, at most TOP_ROWS.
    rows: list[tuple[str, int]]


@dataclass(frozen=True)
class Digest:
    site: str | None
    start: dt.date
    end: dt.date
    previous_start: dt.date
    previous_end: dt.date
    views: Change
    visitors: Change
    sections: list[Section]
    # The statistics page of the period, absolute; None without LAMBDACTR_SITE_URL.
    link: str | None

    @property
    def day_count(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def subject(self) -> str:
        where = self.site if self.site is not None else "all sites"
        return (
            f"Page views of {where}, {self.start} to {self.end}: "
            f"{_count(self.views.now, 'view')}, {_count(self.visitors.now, 'visitor')}"
        )


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def build(day_count: int, site: str | None = None) -> Digest:
    """The digest of the ``day_count`` whole days before today (the site's calendar)."""
    end = days.today() - dt.timedelta(days=1)
    start = days.clamp(end - dt.timedelta(days=day_count - 1))
    previous_end = start - dt.timedelta(days=1)
    previous_start = days.clamp(previous_end - dt.timedelta(days=day_count - 1))
    rollups.catch_up(previous_start, end, most=rollups.LAZY_DAYS)
    report = stats.report_for(site=site, start=start, end=end)
    before = stats.report_for(site=site, start=previous_start, end=previous_end, limit=1)
    return Digest(
        site=site,
        start=start,
        end=end,
        previous_start=previous_start,
        previous_end=previous_end,
        views=Change(report.views, before.views),
        visitors=Change(report.visitors, before.visitors),
        sections=sections(report),
        link=statistics_link(site, start, end),
    )


def sections(report: Any) -> list[Section]:
    """The top lists of ``report``: pages, referrers, and the optional ones it has."""
    chosen = [("pages", "Top pages", "Page"), ("referrers", "Top referrers", "Host")]
    # Shown once the report counts them, empty or not: "none" is news too.
    chosen += [entry for entry in OPTIONAL_SECTIONS if hasattr(report, entry[0])]
    return [
        Section(title, column, [(row.label, row.views) for row in getattr(report, name)[:TOP_ROWS]])
        for name, title, column in chosen
    ]


def statistics_link(site: str | None, start: dt.date, end: dt.date) -> str | None:
    base = conf.SITE_URL
    if not base:
        return None
    try:
        path = reverse(STATISTICS_VIEW)
    except NoReverseMatch:
        return None
    query: dict[str, str] = {"since": start.isoformat(), "until": end.isoformat()}
    if site is not None:
        query["site"] = site
    return f"{base.rstrip('/')}{path}?{urlencode(query)}"


def message(digest: Digest, to: list[str]) -> EmailMultiAlternatives:
    """One message to every address in ``to``: plain text, and the same as HTML."""
    context = {"digest": digest}
    text = render_to_string("lambdactr_django/email/digest.txt", context)
    html = render_to_string("lambdactr_django/email/digest.html", context)
    email = EmailMultiAlternatives(subject=digest.subject, body=text, to=to)
    email.attach_alternative(html, "text/html")
    return email
