"""The statistics page: the hit list's filters, counted by lambdactr_django.stats."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse

from lambdactr_django import stats
from lambdactr_django.admin.chart import bar_chart
from lambdactr_django.admin.filters import LOOKUP_PARAMETERS, TrafficFilter, selection
from lambdactr_django.admin.hidden import SHOW_ALL, statistics_note
from lambdactr_django.hits import BotReason, Channel, Kind
from lambdactr_django.stats import Traffic, rollups

if TYPE_CHECKING:
    from lambdactr_django.admin.hit_list import HeaderHitAdmin


def statistics_view(model_admin: HeaderHitAdmin, request: HttpRequest) -> HttpResponseBase:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    chosen = selection(request.GET)
    narrowed = None
    if chosen.narrowed:
        try:
            # Every traffic class, so the page can show the share of bots and prefetches.
            narrowed = model_admin.filtered_hits(
                request, {TrafficFilter.parameter_name: Traffic.ALL}
            )
        except IncorrectLookupParameters:
            return HttpResponseRedirect(model_admin.url("changelist") + "?e=1")
    else:
        # Sites without a lambdactr_rollup cron job stay fast: seal a few days first.
        rollups.catch_up(chosen.start, chosen.end, most=rollups.LAZY_DAYS)
    report = stats.report_for(
        site=chosen.site,
        start=chosen.start,
        end=chosen.end,
        kind=chosen.kind,
        verified=chosen.verified,
        traffic=chosen.traffic,
        narrowed=narrowed,
    )
    try:
        everything = model_admin.filtered_hits(request, SHOW_ALL)
    except IncorrectLookupParameters:
        return HttpResponseRedirect(model_admin.url("changelist") + "?e=1")
    hidden = statistics_note(request, report, everything, model_admin.url("statistics"))
    link = HitListLinks(model_admin.url("changelist"), model_admin.url("statistics"), request.GET)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": "Statistics",
        "report": report,
        "hidden": hidden,
        "chart": bar_chart(report.days),
        "totals": {
            "views": (report.views, link(kind=Kind.VIEW)),
            "visitors": (report.visitors, link(kind=Kind.VISITOR_DAY)),
        },
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
        "hit_list_url": link(),
        "export_csv_url": link.other(model_admin.url("export", file_format="csv")),
        "export_jsonl_url": link.other(model_admin.url("export", file_format="jsonl")),
    }
    return TemplateResponse(request, "lambdactr_django/admin/statistics.html", context)


class HitListLinks:
    """URLs of the hit list (and export) with the page's filters plus a few more."""

    def __init__(self, changelist_url: str, statistics_url: str, query: QueryDict) -> None:
        self.changelist_url = changelist_url
        self.statistics_url = statistics_url
        # The page number and the list's error flag mean nothing on another page.
        self.query: dict[str, str] = {k: str(v) for k, v in query.items() if k not in ("p", "e")}

    def __call__(self, **lookups: str) -> str:
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
