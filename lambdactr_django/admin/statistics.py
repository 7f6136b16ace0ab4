"""The statistics page: the hit list's filters, counted by lambdactr_django.stats.

``page_context`` is the page's body, shared with the shared-dashboard page
(admin/public.py), which passes links that lead nowhere hit-level.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse

from lambdactr_django import stats
from lambdactr_django.admin import controls
from lambdactr_django.admin.chart import bar_chart, day_rows
from lambdactr_django.admin.filters import (
    LOOKUP_PARAMETERS,
    DateFilter,
    Selection,
    TrafficFilter,
    selection,
)
from lambdactr_django.admin.headline import headlines, period_text
from lambdactr_django.admin.hidden import SHOW_ALL, statistics_note
from lambdactr_django.hits import BotReason, Channel, Kind
from lambdactr_django.models import HeaderHit
from lambdactr_django.stats import Traffic, periods, rollups
from lambdactr_django.stats.live import live

if TYPE_CHECKING:
    from lambdactr_django.admin.hit_list import HeaderHitAdmin

# The previous period is read for its totals and days: one row of each top list.
_PREVIOUS_ROWS = 1


def statistics_view(model_admin: HeaderHitAdmin, request: HttpRequest) -> HttpResponseBase:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    chosen = selection(request.GET)

    def narrowed(start: dt.date | None, end: dt.date | None) -> QuerySet[HeaderHit] | None:
        if not chosen.narrowed:
            return None
        # Every traffic class, so the page can show the share of bots and prefetches.
        return model_admin.filtered_hits(
            _for_days(request, start, end), {TrafficFilter.parameter_name: Traffic.ALL}
        )

    try:
        report, previous = count(chosen, narrowed)
        everything = model_admin.filtered_hits(request, SHOW_ALL)
    except IncorrectLookupParameters:
        return HttpResponseRedirect(model_admin.url("changelist") + "?e=1")
    statistics_url = model_admin.url("statistics")
    link = HitListLinks(model_admin.url("changelist"), statistics_url, request.GET)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": "Statistics",
        **page_context(chosen, report, previous, link, request.GET),
        "hit_level": True,
        "hidden": statistics_note(request, report, everything, statistics_url),
        "chips": controls.chips(statistics_url, request.GET),
        "site_choices": controls.site_choices(chosen),
        "site_selected": chosen.site is not None,
        "site_kept": controls.pairs(request.GET, ("site",)),
        "all_sites_url": controls.url_with(statistics_url, request.GET, ("site",)),
        # The API counts what stats can select alone: a search or a column filter
        # needs the hit list's changelist, so such a page offers no JSON.
        "json_url": "" if chosen.narrowed else controls.json_url(request.GET),
        "hit_list_url": link(),
        "export_csv_url": link.other(model_admin.url("export", file_format="csv")),
        "export_jsonl_url": link.other(model_admin.url("export", file_format="jsonl")),
    }
    return TemplateResponse(request, "lambdactr_django/admin/statistics.html", context)


def count(
    chosen: Selection,
    narrowed: Callable[[dt.date | None, dt.date | None], QuerySet[HeaderHit] | None],
) -> tuple[stats.Report, stats.Report | None]:
    """The report of the chosen period, and of the one before it (None if open)."""
    hits = narrowed(chosen.start, chosen.end)
    if hits is None:
        # Sites without a lambdactr_rollup cron job stay fast: seal a few days first
        # (whole months are that job's: one costs seconds at millions of hits).
        rollups.catch_up(chosen.start, chosen.end, most=rollups.LAZY_DAYS, months=False)
    report = stats.report_for(
        chosen.site,
        chosen.start,
        chosen.end,
        chosen.kind,
        chosen.verified,
        chosen.traffic,
        narrowed=hits,
    )
    if chosen.previous is None:
        return report, None
    start, end = chosen.previous
    hits = narrowed(start, end)
    if hits is None:
        rollups.catch_up(start, end, most=rollups.LAZY_DAYS, months=False)
        before = periods.report_before
    else:
        before = functools.partial(stats.report_for, narrowed=hits)
    previous = before(
        chosen.site, start, end, chosen.kind, chosen.verified, chosen.traffic, _PREVIOUS_ROWS
    )
    return report, previous


def page_context(
    chosen: Selection,
    report: stats.Report,
    previous: stats.Report | None,
    link: HitListLinks,
    query: QueryDict,
) -> dict[str, Any]:
    """What the page's body shows, for the admin's page and a shared one alike."""
    url = link.statistics_url
    recent = live(site=chosen.site)
    return {
        "report": report,
        "previous": previous,
        "period": period_text(report.start, report.end),
        "previous_period": period_text(previous.start, previous.end) if previous else "",
        "periods": controls.period_choices(url, query, chosen),
        "range": controls.range_values(query, chosen),
        "range_kept": controls.pairs(query, controls.PERIOD_PARAMETERS),
        "headlines": headlines(report, previous, link),
        "chart": bar_chart(report.days, previous.days if previous else None),
        "day_rows": day_rows(report.days, previous.days if previous else None),
        "sections": [
            ("Top pages", "Page", False, _linked(report.pages, link)),
            ("Top referrers", "Host", False, _linked(report.referrers, link)),
            ("Browsers", "Browser", True, _linked(report.browsers, link)),
            ("Operating systems", "OS", True, _linked(report.systems, link)),
            ("Devices", "Device", True, _linked(report.devices, link)),
            ("Channels", "Channel", False, _channel_rows(report, link)),
            ("Entry pages (visits)", "Page", True, _entry_rows(report, link)),
            ("Campaigns (utm_campaign)", "Campaign", True, _linked(report.campaigns, link)),
            ("Sources (utm_source)", "Source", True, _linked(report.sources, link)),
            ("Mediums (utm_medium)", "Medium", True, _linked(report.mediums, link)),
            ("Languages", "Language", True, _linked(report.languages, link)),
            ("Countries", "Country", True, _linked(report.countries, link)),
        ],
        "traffic_rows": _traffic_rows(report, link),
        # Some counts of the top lists are bounds: rare values were folded together.
        "approximate": any(report.unlisted.values()),
        "traffic_choices": [
            (value, label, link.to_traffic(value), value == chosen.traffic)
            for value, label in Traffic.LABELS.items()
        ],
        "live": recent,
        "live_rows": _linked(recent.pages, NO_HIT_LIST),
    }


def _for_days(request: HttpRequest, start: dt.date | None, end: dt.date | None) -> HttpRequest:
    # The same request asking for other days, for the hit list's own filters.
    query = request.GET.copy()
    for name in controls.PERIOD_PARAMETERS:
        query.pop(name, None)
    if start is not None:
        query[DateFilter.since_parameter] = start.isoformat()
    if end is not None:
        query[DateFilter.until_parameter] = end.isoformat()
    shifted = copy.copy(request)
    shifted.GET = query  # type: ignore[assignment]
    return shifted


class HitListLinks:
    """URLs of the hit list (and export) with the page's filters plus a few more.

    Without a hit list (``changelist_url`` None, on a shared dashboard) every
    such URL is empty and the page shows plain numbers."""

    def __init__(self, changelist_url: str | None, statistics_url: str, query: QueryDict) -> None:
        self.changelist_url = changelist_url
        self.statistics_url = statistics_url
        # The page number and the list's error flag mean nothing on another page.
        self.query: dict[str, str] = {k: str(v) for k, v in query.items() if k not in ("p", "e")}

    def __call__(self, **lookups: str) -> str:
        if self.changelist_url is None:
            return ""
        query = dict(self.query)
        for name, value in lookups.items():
            query[LOOKUP_PARAMETERS[name]] = value
        return self._url(self.changelist_url, query)

    def to_traffic(self, traffic: str) -> str:
        query = {k: v for k, v in self.query.items() if k != TrafficFilter.parameter_name}
        if traffic != Traffic.HUMAN:
            query[TrafficFilter.parameter_name] = traffic
        return self._url(self.statistics_url, query)

    def other(self, url: str) -> str:
        return self._url(url, self.query)

    @staticmethod
    def _url(url: str, query: dict[str, str]) -> str:
        return f"{url}?{urlencode(query)}" if query else url


NO_HIT_LIST = HitListLinks(None, "", QueryDict())


def _channel_rows(report: stats.Report, link: HitListLinks) -> list[dict[str, Any]]:
    return [
        {**row, "label": Channel.LABELS.get(row["label"], row["label"]) or "direct or internal"}
        for row in _linked(report.channels, link)
    ]


def _entry_rows(report: stats.Report, link: HitListLinks) -> list[dict[str, Any]]:
    # Both numbers count visits: both open the visitor-days that entered there.
    return [{**row, "views_url": row["visitors_url"]} for row in _linked(report.entry_pages, link)]


def _traffic_rows(report: stats.Report, link: HitListLinks) -> list[dict[str, Any]]:
    # Each bot reason right under the bots it splits.
    reasons = [
        {**row, "label": BotReason.LABELS.get(row["label"], row["label"]), "reason": True}
        for row in _linked(report.bot_reasons, link, traffic=Traffic.BOT)
    ]
    rows: list[dict[str, Any]] = []
    for source, row in zip(
        report.traffic_classes, _linked(report.traffic_classes, link), strict=True
    ):
        rows.append(row)
        if source.lookups.get("traffic") == Traffic.BOT:
            rows.extend(reasons)
    return rows


def _linked(
    rows: list[stats.Row], link: HitListLinks, traffic: str | None = None
) -> list[dict[str, Any]]:
    linked = []
    for row in rows:
        lookups = dict(row.lookups)
        if traffic is not None:
            lookups["traffic"] = traffic
        linked.append(
            {
                "label": row.label,
                "views": row.views,
                "visitors": row.visitors,
                "short": row.short,
                "views_url": link(kind=Kind.VIEW, **lookups),
                "visitors_url": link(kind=Kind.VISITOR_DAY, **lookups),
            }
        )
    return linked
