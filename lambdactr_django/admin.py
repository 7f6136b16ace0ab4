from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.core.paginator import Paginator
from django.db import connections, router, transaction
from django.db.models import Field, QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    QueryDict,
    StreamingHttpResponse,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.dateparse import parse_date
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from lambdactr_django import classify, days, export, rollups, stats
from lambdactr_django.capture import VIEW, VISITOR
from lambdactr_django.chart import bar_chart
from lambdactr_django.models import HeaderHit


class DateFilter(admin.SimpleListFilter):
    title = "date"
    parameter_name = "when"
    template = "lambdactr_django/admin/date_filter.html"
    since_parameter = "since"
    until_parameter = "until"
    presets = {"today": 0, "7d": 6, "30d": 29}

    def __init__(
        self,
        request: HttpRequest,
        params: dict[str, Any],
        model: type[HeaderHit],
        model_admin: admin.ModelAdmin[HeaderHit],
    ) -> None:
        super().__init__(request, params, model, model_admin)
        self.request_query = request.GET
        # Claim the custom-range parameters so the changelist does not take
        # them for field lookups.
        for name in (self.since_parameter, self.until_parameter):
            if name in params:
                value = params.pop(name)
                self.used_parameters[name] = value[-1] if isinstance(value, list) else value

    def expected_parameters(self) -> list[str]:
        return [self.parameter_name, self.since_parameter, self.until_parameter]

    def has_output(self) -> bool:
        return True

    def choices(self, changelist: Any) -> Iterator[dict[str, Any]]:
        own = self.expected_parameters()
        yield {
            "selected": not any(self.used_parameters.values()),
            "query_string": changelist.get_query_string(remove=own),
            "display": "Any date",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string(
                    {self.parameter_name: lookup}, remove=own
                ),
                "display": title,
            }

    def preserved_parameters(self) -> list[tuple[str, str]]:
        # The custom-range form replaces this filter's own parameters and the
        # page number, and keeps every other filter and the search.
        dropped = {*self.expected_parameters(), "p"}
        return [
            (name, value)
            for name, values in self.request_query.lists()
            if name not in dropped
            for value in values
        ]

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("today", "Today"), ("7d", "Last 7 days"), ("30d", "Last 30 days")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[HeaderHit]) -> QuerySet[HeaderHit]:
        return stats.between(queryset, *self.days())

    def days(self) -> tuple[dt.date | None, dt.date | None]:
        return requested_days(
            self.value(),
            self.used_parameters.get(self.since_parameter),
            self.used_parameters.get(self.until_parameter),
        )

    def range_values(self) -> dict[str, str]:
        return {
            "since": self.used_parameters.get(self.since_parameter, ""),
            "until": self.used_parameters.get(self.until_parameter, ""),
        }


def requested_days(
    preset: str | None, since: str | None, until: str | None
) -> tuple[dt.date | None, dt.date | None]:
    """The first and last day the date filter asks for; None where it is open."""
    if preset in DateFilter.presets:
        return days.last_days(DateFilter.presets[preset] + 1)
    return _date(since), _date(until)


def _date(value: str | None) -> dt.date | None:
    try:
        return parse_date(value or "")
    except ValueError:  # well-formed but impossible, such as 2025-02-30
        return None


class SiteFilter(admin.SimpleListFilter):
    title = "site"
    parameter_name = "site"
    max_sites = 100

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        sites = recent_values(HeaderHit.objects.all(), "site", [self.value()])[: self.max_sites]
        return [(site, site or "(unknown)") for site in sites]

    def queryset(self, request: HttpRequest, queryset: QuerySet[HeaderHit]) -> QuerySet[HeaderHit]:
        if self.value() is None:
            return queryset
        return queryset.filter(site=self.value())


# The filters offer the values of the latest hits only: a SELECT DISTINCT over
# the whole table on every page of the list is a full scan. Chosen values
# still filter exactly, over every hit, and stay listed.
RECENT_HITS = 10_000


def recent_values(
    queryset: QuerySet[HeaderHit], column: str, chosen: list[str | None] | None = None
) -> list[str]:
    """The distinct values of ``column`` in the latest hits, plus ``chosen``, sorted."""
    values = set(
        stats.recent(queryset, RECENT_HITS).values_list(column, flat=True).distinct().order_by()
    )
    values.update(value for value in chosen or [] if value is not None)
    return sorted(values)


class RecentValuesFilter(admin.AllValuesFieldListFilter):
    """Django's filter by a column's values, listing those of the latest hits only."""

    def __init__(
        self,
        field: Field[Any, Any],
        request: HttpRequest,
        params: dict[str, Any],
        model: type[HeaderHit],
        model_admin: admin.ModelAdmin[HeaderHit],
        field_path: str,
    ) -> None:
        super().__init__(field, request, params, model, model_admin, field_path)
        self.lookup_choices = recent_values(
            model_admin.get_queryset(request), field.name, list(self.lookup_val or [])
        )


class EstimatedCountPaginator(Paginator):
    """A paginator that asks PostgreSQL's planner how many hits there are, when many.

    The list's count is an exact COUNT(*) of every matching hit, read on every
    page; on a table of millions that is the slowest query of the page. Where
    the planner expects at least ``exact_below`` rows, its estimate is the
    count, and ``estimated`` is True; below that, and on other databases, the
    count is exact.
    """

    exact_below = 100_000

    estimated = False

    @cached_property
    def count(self) -> int:
        estimate = _planned_rows(self.object_list)
        if estimate is None or estimate < self.exact_below:
            return super().count
        self.estimated = True
        return estimate

    @property
    def rounded_count(self) -> str:
        """The count with three significant figures, for "about ..."."""
        count = int(float(f"{self.count:.3g}"))
        return f"{count:,}"


def _planned_rows(queryset: Any) -> int | None:
    if not isinstance(queryset, QuerySet):
        return None
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str | bytes):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class ExternalReferrerFilter(admin.SimpleListFilter):
    title = "external referrer"
    parameter_name = "external"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[HeaderHit]) -> QuerySet[HeaderHit]:
        if self.value() == "yes":
            return queryset.exclude(referrer="")
        if self.value() == "no":
            return queryset.filter(referrer="")
        return queryset


class VerifiedFilter(admin.SimpleListFilter):
    """Hides hits with a forged signature unless asked for."""

    title = "signature"
    parameter_name = "verified"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "Forged or broken"), ("all", "All")]

    def choices(self, changelist: Any) -> Iterator[dict[str, Any]]:
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Verified",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[HeaderHit]) -> QuerySet[HeaderHit]:
        if self.value() == "all":
            return queryset
        return queryset.filter(verified=self.value() != "no")


class TrafficFilter(admin.SimpleListFilter):
    """Shows people unless asked for bots, prefetches or everything: the same classes
    the statistics count."""

    title = "traffic"
    parameter_name = "traffic"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (stats.BOT, "Bots"),
            (stats.PREFETCH, "Prefetches and prerenders"),
            (stats.ALL, "All"),
        ]

    def choices(self, changelist: Any) -> Iterator[dict[str, Any]]:
        yield {
            "selected": self.traffic() == stats.HUMAN,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "People",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.traffic() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def __init__(
        self,
        request: HttpRequest,
        params: dict[str, Any],
        model: type[HeaderHit],
        model_admin: admin.ModelAdmin,  # type: ignore[type-arg]
    ) -> None:
        super().__init__(request, params, model, model_admin)
        self.request_query = request.GET

    def traffic(self) -> str:
        return traffic_of(self.request_query)

    def queryset(self, request: HttpRequest, queryset: QuerySet[HeaderHit]) -> QuerySet[HeaderHit]:
        return stats.of_traffic(queryset, self.traffic())


def traffic_of(query: Mapping[str, str]) -> str:
    """The traffic class the hit list's query asks for; people unless it says otherwise."""
    value = query.get(TrafficFilter.parameter_name)
    if value in stats.TRAFFIC:
        return str(value)
    # Only bots have a reason: picking one in the filter means "these bots",
    # not "people with this reason", which would always be empty.
    if query.get(_LOOKUP_PARAMETERS["bot_reason"]):
        return stats.BOT
    return stats.HUMAN


# Query parameters of the hit list selecting a field's value; see list_filter.
_LOOKUP_PARAMETERS = {
    "site": "site",
    "path": "path",
    "referrer_host": "referrer_host",
    "browser": "browser",
    "os": "os",
    "device": "device__exact",
    "bot_reason": "bot_reason__exact",
    "kind": "kind__exact",
    "traffic": "traffic",
}


@admin.register(HeaderHit)
class HeaderHitAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "created_at",
        "kind",
        "site",
        "path",
        "referrer",
        "browser",
        "device",
        "traffic_label",
    ]
    list_filter = [
        DateFilter,
        SiteFilter,
        TrafficFilter,
        "kind",
        "device",
        ("browser", RecentValuesFilter),
        ("os", RecentValuesFilter),
        "bot_reason",
        "resource",
        ExternalReferrerFilter,
        VerifiedFilter,
    ]
    search_fields = ["path", "referrer", "user_agent"]
    fields = [
        "id",
        "created_at",
        "kind",
        "resource",
        "site",
        "path",
        "referrer",
        "user_agent",
        "browser",
        "os",
        "device",
        "is_bot",
        "bot_reason",
        "prefetch",
        "dnt",
        "gpc",
        "verified",
        "headers_table",
    ]
    readonly_fields = fields
    list_per_page = 50

    class Media:
        css = {"all": ["lambdactr_django/admin.css"]}

    # An exact COUNT(*) of a large log table on every page is the slowest query
    # here: no count of the unfiltered table, an estimate of the filtered one,
    # and no per-choice counts (facets) at all.
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    show_facets = admin.ShowFacets.NEVER
    change_list_template = "lambdactr_django/admin/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # Only what the list filters and the statistics links read: a hand-made
        # ?path__regex=( or ?headers__a=... would otherwise reach the database.
        simple: set[str] = {DateFilter.since_parameter, DateFilter.until_parameter}
        fields: set[str] = set()
        for spec in self.list_filter:
            if isinstance(spec, type) and issubclass(spec, admin.SimpleListFilter):
                simple.add(str(spec.parameter_name))
            else:
                fields.add(spec if isinstance(spec, str) else spec[0])  # type: ignore[index]
        if lookup in simple or lookup in _LOOKUP_PARAMETERS.values():
            return True
        field = lookup.split("__", 1)[0]
        if field not in {f.name for f in self.model._meta.get_fields()}:
            # Not a column at all: Django answers it as any wrong filter, by
            # sending the user back to the list ("?e=1").
            return True
        return field in fields and super().lookup_allowed(lookup, value, request)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponseBase:
        _refuse_nul(request)
        return super().changelist_view(request, extra_context)

    def has_change_permission(self, request: HttpRequest, obj: HeaderHit | None = None) -> bool:
        return False

    # Deleting hits of a rolled-up day rolls that day up again, in the same transaction.
    def delete_model(self, request: HttpRequest, obj: HeaderHit) -> None:
        with transaction.atomic(using=router.db_for_write(HeaderHit)):
            super().delete_model(request, obj)
            rollups.refresh([rollups.day_of(obj.created_at)])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[HeaderHit]) -> None:
        with transaction.atomic(using=router.db_for_write(HeaderHit)):
            touched = {
                rollups.day_of(when) for when in queryset.values_list("created_at", flat=True)
            }
            super().delete_queryset(request, queryset)
            rollups.refresh(touched)

    @admin.display(description="traffic")
    def traffic_label(self, obj: HeaderHit) -> str:
        if obj.is_bot:
            return f"bot: {obj.get_bot_reason_display()}"
        return obj.prefetch or "person"

    @admin.display(description="headers")
    def headers_table(self, obj: HeaderHit) -> SafeString:
        rows = format_html_join(
            "\n",
            '<tr><th scope="row">{}</th><td>{}</td></tr>',
            sorted((str(name), str(value)) for name, value in obj.headers.items()),
        )
        return format_html(
            '<table class="lambdactr-headers"><thead><tr><th scope="col">Header</th>'
            '<th scope="col">Value</th></tr></thead><tbody>{}</tbody></table>',
            rows,
        )

    def get_urls(self) -> list[URLPattern]:
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap: Callable[..., Any] = self.admin_site.admin_view
        return [
            path("statistics/", wrap(self.statistics_view), name=f"{prefix}_statistics"),
            path("export/<str:file_format>/", wrap(self.export_view), name=f"{prefix}_export"),
            *super().get_urls(),
        ]

    def statistics_view(self, request: HttpRequest) -> HttpResponseBase:
        if not self.has_view_permission(request):
            raise PermissionDenied
        traffic = traffic_of(request.GET)
        start, end = requested_days(
            request.GET.get(DateFilter.parameter_name),
            request.GET.get(DateFilter.since_parameter),
            request.GET.get(DateFilter.until_parameter),
        )
        rolled = _rollup_filters(request.GET)
        if rolled is not None:
            report = stats.report_for(start=start, end=end, traffic=traffic, **rolled)
        else:
            try:
                # Every traffic class, so the page can show the share of bots and prefetches.
                every = self.filtered_hits(request, {TrafficFilter.parameter_name: stats.ALL})
            except IncorrectLookupParameters:
                return HttpResponseRedirect(self._url("changelist") + "?e=1")
            report = stats.report(every, traffic, start, end)
        link = _HitListLinks(self._url("changelist"), self._url("statistics"), request.GET)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Statistics",
            "report": report,
            "chart": bar_chart(report.days),
            "totals": {
                "views": (report.views, link(kind=VIEW)),
                "visitors": (report.visitors, link(kind=VISITOR)),
            },
            "sections": [
                ("Top pages", "Page", False, _linked(report.pages, link)),
                ("Top referrers", "Host", False, _linked(report.referrers, link)),
                ("Browsers", "Browser", True, _linked(report.browsers, link)),
                ("Operating systems", "OS", True, _linked(report.systems, link)),
                ("Devices", "Device", True, _linked(report.devices, link)),
            ],
            "traffic_rows": _traffic_rows(report, link),
            "traffic_choices": [
                (value, label, link.to_traffic(value), value == traffic)
                for value, label in stats.TRAFFIC.items()
            ],
            "hit_list_url": link(),
            "export_csv_url": link.other(self._url("export", file_format="csv")),
            "export_jsonl_url": link.other(self._url("export", file_format="jsonl")),
        }
        return TemplateResponse(request, "lambdactr_django/admin/statistics.html", context)

    def export_view(self, request: HttpRequest, file_format: str) -> HttpResponseBase:
        if not self.has_view_permission(request):
            raise PermissionDenied
        if file_format not in _EXPORT_FORMATS:
            return HttpResponse(status=404)
        try:
            hits = self.filtered_hits(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect(self._url("changelist") + "?e=1")
        lines, content_type, extension = _EXPORT_FORMATS[file_format]
        response = StreamingHttpResponse(lines(export.rows(hits)), content_type=content_type)
        filename = f"page-views-{days.today():%Y%m%d}.{extension}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def filtered_hits(
        self, request: HttpRequest, overrides: dict[str, str] | None = None
    ) -> QuerySet[HeaderHit]:
        """The hits the hit list shows for this request's filters and search."""
        _refuse_nul(request)
        if overrides:
            request = copy.copy(request)
            query = request.GET.copy()
            query.update(overrides)
            request.GET = query
        return self.get_changelist_instance(request).get_queryset(request)

    def _url(self, view: str, **kwargs: str) -> str:
        name = f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_{view}"
        return reverse(name, kwargs=kwargs or None)


# The hit list's parameters the rollups can answer: the date, the site, the
# traffic class, the kind and the signature. Any other filter or a search is
# answered from the raw hits.
_ROLLUP_PARAMETERS = {
    DateFilter.parameter_name,
    DateFilter.since_parameter,
    DateFilter.until_parameter,
    SiteFilter.parameter_name,
    TrafficFilter.parameter_name,
    VerifiedFilter.parameter_name,
    _LOOKUP_PARAMETERS["kind"],
    # The page number and the list's error flag select nothing.
    "p",
    "e",
}


def _rollup_filters(query: QueryDict) -> dict[str, Any] | None:
    """``stats.report_for`` arguments for this statistics query; None when it needs raw hits."""
    _refuse_nul_in(query)
    for name, values in query.lists():
        # An empty search box filters nothing; a parameter given twice may mean "either".
        if (name not in _ROLLUP_PARAMETERS and any(values)) or len(values) > 1:
            return None
    # As VerifiedFilter reads it: verified unless "no" (forged) or "all".
    signature = query.get(VerifiedFilter.parameter_name)
    return {
        "site": query.get(SiteFilter.parameter_name),
        "kind": query.get(_LOOKUP_PARAMETERS["kind"]),
        "verified": None if signature == "all" else signature != "no",
    }


def _refuse_nul(request: HttpRequest) -> None:
    _refuse_nul_in(request.GET)


def _refuse_nul_in(query: QueryDict) -> None:
    # PostgreSQL refuses NUL in text; a filter or search carrying one is a bad request.
    if any("\x00" in key + "".join(values) for key, values in query.lists()):
        raise SuspiciousOperation("NUL in the page views list query")


_EXPORT_FORMATS: dict[str, tuple[Callable[..., Iterator[str]], str, str]] = {
    "csv": (export.csv_lines, "text/csv; charset=utf-8", "csv"),
    "jsonl": (export.json_lines, "application/jsonl; charset=utf-8", "jsonl"),
}


class _HitListLinks:
    """URLs of the hit list (and export) with the page's filters plus a few more."""

    def __init__(self, changelist_url: str, statistics_url: str, query: QueryDict) -> None:
        self.changelist_url = changelist_url
        self.statistics_url = statistics_url
        # The page number and the list's error flag mean nothing on another page.
        self.query = {k: v for k, v in query.items() if k not in ("p", "e")}

    def __call__(self, **lookups: str) -> str:
        query = dict(self.query)
        for name, value in lookups.items():
            query[_LOOKUP_PARAMETERS[name]] = value
        return self._url(self.changelist_url, query)

    def to_traffic(self, traffic: str) -> str:
        query = {k: v for k, v in self.query.items() if k != TrafficFilter.parameter_name}
        if traffic != stats.HUMAN:
            query[TrafficFilter.parameter_name] = traffic
        return self._url(self.statistics_url, query)

    def other(self, url: str) -> str:
        return self._url(url, self.query)

    @staticmethod
    def _url(url: str, query: dict[str, str]) -> str:
        return f"{url}?{urlencode(query)}" if query else url


def _traffic_rows(report: stats.Report, link: _HitListLinks) -> list[dict[str, Any]]:
    # Each bot reason right under the bots it splits.
    reasons = [
        {**row, "label": classify.BOT_REASONS.get(row["label"], row["label"]), "reason": True}
        for row in _linked(report.bot_reasons, link, traffic=stats.BOT)
    ]
    rows: list[dict[str, Any]] = []
    for source, row in zip(
        report.traffic_classes, _linked(report.traffic_classes, link), strict=True
    ):
        rows.append(row)
        if source.lookups.get("traffic") == stats.BOT:
            rows.extend(reasons)
    return rows


def _linked(
    rows: list[stats.Row], link: _HitListLinks, traffic: str | None = None
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
                "views_url": link(kind=VIEW, **lookups),
                "visitors_url": link(kind=VISITOR, **lookups),
            }
        )
    return linked
