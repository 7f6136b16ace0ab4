from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

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
        today = timezone.localdate()
        start: dt.date | None = None
        end: dt.date | None = None
        if self.value() in self.presets:
            start = today - dt.timedelta(days=self.presets[str(self.value())])
        else:
            start = _day(self.used_parameters.get(self.since_parameter))
            end = _day(self.used_parameters.get(self.until_parameter))
        # The first and last days Python can hold mean "no bound": one day
        # beyond them, or its midnight in UTC, cannot be represented.
        if start and start > dt.date.min:
            queryset = queryset.filter(created_at__gte=_start_of(start))
        if end and end < dt.date.max:
            queryset = queryset.filter(created_at__lt=_start_of(end + dt.timedelta(days=1)))
        return queryset

    def range_values(self) -> dict[str, str]:
        return {
            "since": self.used_parameters.get(self.since_parameter, ""),
            "until": self.used_parameters.get(self.until_parameter, ""),
        }


def _day(value: str | None) -> dt.date | None:
    # The range comes from an editable URL: a day that does not exist, such as
    # 2024-02-30, is ignored like any other malformed one rather than a 500.
    try:
        return parse_date(value or "")
    except ValueError:
        return None


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class SiteFilter(admin.SimpleListFilter):
    title = "site"
    parameter_name = "site"
    max_sites = 100

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        sites = (HeaderHit.objects.order_by("site").values_list("site", flat=True).distinct())[
            : self.max_sites
        ]
        return [(site, site or "(unknown)") for site in sites]

    def queryset(self, request: HttpRequest, queryset: QuerySet[HeaderHit]) -> QuerySet[HeaderHit]:
        if self.value() is None:
            return queryset
        return queryset.filter(site=self.value())


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


@admin.register(HeaderHit)
class HeaderHitAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["created_at", "site", "path", "referrer", "user_agent"]
    list_filter = [DateFilter, SiteFilter, ExternalReferrerFilter, VerifiedFilter]
    search_fields = ["path", "referrer", "user_agent"]
    fields = [
        "id",
        "created_at",
        "site",
        "path",
        "referrer",
        "user_agent",
        "verified",
        "headers_table",
    ]
    readonly_fields = fields
    list_per_page = 50

    class Media:
        css = {"all": ["lambdactr_django/admin.css"]}

    # An exact COUNT(*) of a large log table on every page is the slowest query here.
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: HeaderHit | None = None) -> bool:
        return False

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
