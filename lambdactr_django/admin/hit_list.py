"""The hit list: a read-only log admin of the stored hits."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.db import router, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from lambdactr_django import days, stats
from lambdactr_django.admin.export import export_view
from lambdactr_django.admin.filters import (
    LOOKUP_PARAMETERS,
    QUERYSET_ONLY,
    DateFilter,
    ExternalReferrerFilter,
    RecentValuesFilter,
    SiteFilter,
    TrafficFilter,
    VerifiedFilter,
    refuse_nul,
)
from lambdactr_django.admin.hidden import SHOW_ALL, HiddenNote, note
from lambdactr_django.admin.paginator import EstimatedCountPaginator
from lambdactr_django.admin.statistics import statistics_view
from lambdactr_django.hits import COLUMNS
from lambdactr_django.models import HeaderHit
from lambdactr_django.stats import rollups


class QuerysetOnly(ChangeList):
    """A change list that filters, searches and orders the hits and stops there:
    no page of hits and no count, which the hidden-hits note, the statistics
    and the export do not show."""

    def get_results(self, request: HttpRequest) -> None:
        pass


# Every column in the order of hits.COLUMNS; the headers as a table.
DETAIL_FIELDS: tuple[str, ...] = (*(name for name in COLUMNS if name != "headers"), "headers_table")


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
        "channel",
        ExternalReferrerFilter,
        VerifiedFilter,
    ]
    search_fields = ["path", "referrer", "user_agent"]
    fields = DETAIL_FIELDS
    readonly_fields = DETAIL_FIELDS
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

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        # Only what the list filters and the statistics links read: a hand-made
        # ?path__regex=( or ?headers__a=... would otherwise reach the database.
        simple: set[str] = {DateFilter.since_parameter, DateFilter.until_parameter}
        fields: set[str] = set()
        for spec in self.list_filter:
            if isinstance(spec, type) and issubclass(spec, admin.SimpleListFilter):
                simple.add(str(spec.parameter_name))
            else:
                fields.add(spec if isinstance(spec, str) else str(spec[0]))  # type: ignore[index]
        if lookup in simple or lookup in LOOKUP_PARAMETERS.values():
            return True
        field = lookup.split("__", 1)[0]
        if field not in {f.name for f in self.model._meta.get_fields()}:
            # Not a column at all: Django answers it as any wrong filter, by
            # sending the user back to the list ("?e=1").
            return True
        return field in fields and super().lookup_allowed(lookup, value, request)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        refuse_nul(request)
        context = {**(extra_context or {}), "hidden": self.hidden_note(request)}
        return super().changelist_view(request, context)

    def hidden_note(self, request: HttpRequest) -> HiddenNote | None:
        """What the list's default filters leave out, said on the page."""
        try:
            everything = self.filtered_hits(request, SHOW_ALL)
        except IncorrectLookupParameters:
            return None  # The list itself answers with ?e=1.
        return note(request, everything, self.url("changelist"))

    def has_change_permission(self, request: HttpRequest, obj: HeaderHit | None = None) -> bool:
        return False

    # Deleting hits of a rolled-up day rolls that day up again, in the same transaction.
    def delete_model(self, request: HttpRequest, obj: HeaderHit) -> None:
        with transaction.atomic(using=router.db_for_write(HeaderHit)):
            super().delete_model(request, obj)
            rollups.refresh([days.day_of(obj.created_at)])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[HeaderHit]) -> None:
        with transaction.atomic(using=router.db_for_write(HeaderHit)):
            touched = {days.day_of(when) for when in queryset.values_list("created_at", flat=True)}
            super().delete_queryset(request, queryset)
            rollups.refresh(touched)

    @admin.display(description="traffic")
    def traffic_label(self, obj: HeaderHit) -> str:
        return stats.describe(obj)

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
        return statistics_view(self, request)

    def export_view(self, request: HttpRequest, file_format: str) -> HttpResponseBase:
        return export_view(self, request, file_format)

    def filtered_hits(
        self, request: HttpRequest, overrides: dict[str, str] | None = None
    ) -> QuerySet[HeaderHit]:
        """The hits the hit list shows for this request's filters and search."""
        refuse_nul(request)
        request = copy.copy(request)
        if overrides:
            query = request.GET.copy()
            query.update(overrides)
            request.GET = query  # type: ignore[assignment]
        setattr(request, QUERYSET_ONLY, True)
        hits: QuerySet[HeaderHit] = self.get_changelist_instance(request).queryset
        return hits

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        if getattr(request, QUERYSET_ONLY, False):
            return QuerysetOnly
        return super().get_changelist(request, **kwargs)

    def url(self, view: str, **kwargs: str) -> str:
        """The URL of one of this admin's views (changelist, statistics, export)."""
        name = f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_{view}"
        return reverse(name, kwargs=kwargs or None)
