"""The hit list's filters, and what its query selects for the statistics."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.core.exceptions import SuspiciousOperation
from django.db.models import Field, QuerySet
from django.http import HttpRequest, QueryDict
from django.utils.dateparse import parse_date

from lambdactr_django import days, stats
from lambdactr_django.models import HeaderHit
from lambdactr_django.stats import Traffic, periods

if TYPE_CHECKING:
    from django.contrib.admin.filters import _ListFilterChoices
    from django.contrib.admin.views.main import ChangeList


class DateFilter(admin.SimpleListFilter):
    title = "date"
    parameter_name = "when"
    template = "lambdactr_django/admin/date_filter.html"
    since_parameter = "since"
    until_parameter = "until"
    presets = periods.PRESETS

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

    def expected_parameters(self) -> list[str | None]:
        return [*self._own()]

    def _own(self) -> list[str]:
        return [str(self.parameter_name), self.since_parameter, self.until_parameter]

    def has_output(self) -> bool:
        return True

    def choices(self, changelist: ChangeList) -> Iterator[_ListFilterChoices]:
        own = self._own()
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
        dropped = {*self._own(), "p"}
        return [
            (name, value)
            for name, values in self.request_query.lists()
            if name not in dropped
            for value in values
        ]

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(periods.PRESETS.items())

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
    if preset in periods.PRESETS:
        return periods.preset_days(preset)
    return _date(since), _date(until)


def period_of(query: Mapping[str, str]) -> str:
    """The preset period ``query`` asks for, "custom" for a range, "" for every day."""
    preset = query.get(DateFilter.parameter_name)
    if preset in periods.PRESETS:
        return str(preset)
    if _date(query.get(DateFilter.since_parameter)) or _date(query.get(DateFilter.until_parameter)):
        return "custom"
    return ""


def _date(value: str | None) -> dt.date | None:
    try:
        day = parse_date(value or "")
    except ValueError:  # well-formed but impossible, such as 2025-02-30
        return None
    # 0001-01-02 or 9999-12-31: a range clamped to the days hits can have.
    return days.clamp(day) if day is not None else None


# Set on a request whose change list is built for its queryset alone (the hit
# list's filtered_hits): its filters offer no choices, which nobody sees, and
# read no latest hits for them.
QUERYSET_ONLY = "_lambdactr_queryset_only"


def offers_choices(request: HttpRequest) -> bool:
    return not getattr(request, QUERYSET_ONLY, False)


class SiteFilter(admin.SimpleListFilter):
    title = "site"
    parameter_name = "site"
    max_sites = 100

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        if not offers_choices(request):
            # The chosen site alone: a filter without choices filters nothing.
            sites = [] if self.value() is None else [str(self.value())]
        else:
            sites = recent_values_for(request, "site", [self.value()])
        return [(site, site or "(unknown)") for site in sites[: self.max_sites]]

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


# The columns whose filters list the latest hits' values, read together once a
# request: the latest hits are scattered over the table, and at 10 million hits
# each pass over them read 10,000 pages (40-200 ms).
RECENT_COLUMNS = ("site", "browser", "os")
_RECENT = "_lambdactr_recent_values"


def recent_values_for(
    request: HttpRequest, column: str, chosen: list[str | None] | None = None
) -> list[str]:
    """``recent_values`` of every hit for this request's filter of ``column``."""
    if column not in RECENT_COLUMNS:
        return recent_values(HeaderHit.objects.all(), column, chosen)
    found: dict[str, set[str]] | None = getattr(request, _RECENT, None)
    if found is None:
        found = {name: set() for name in RECENT_COLUMNS}
        latest = stats.recent(HeaderHit.objects.all(), RECENT_HITS)
        for row in latest.values_list(*RECENT_COLUMNS).distinct().order_by():
            for name, value in zip(RECENT_COLUMNS, row, strict=True):
                found[name].add(value)
        setattr(request, _RECENT, found)
    values = found[column] | {value for value in chosen or [] if value is not None}
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
        # Django's own filter keeps a queryset here; its template takes a list the same.
        choices = (
            recent_values_for(request, field.name, list(self.lookup_val or []))
            if offers_choices(request)
            else []
        )
        self.lookup_choices = choices  # type: ignore[assignment]


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
        return [("no", "Forged, broken or imported"), ("all", "All")]

    def choices(self, changelist: ChangeList) -> Iterator[_ListFilterChoices]:
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
            (Traffic.BOT, "Bots"),
            (Traffic.PREFETCH, "Prefetches and prerenders"),
            (Traffic.ALL, "All"),
        ]

    def choices(self, changelist: ChangeList) -> Iterator[_ListFilterChoices]:
        yield {
            "selected": self.traffic() == Traffic.HUMAN,
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
    if value in Traffic.LABELS:
        return str(value)
    # Only bots have a reason: picking one in the filter means "these bots",
    # not "people with this reason", which would always be empty.
    if query.get(LOOKUP_PARAMETERS["bot_reason"]):
        return Traffic.BOT
    return Traffic.HUMAN


# Query parameters of the hit list selecting a field's value; see list_filter.
LOOKUP_PARAMETERS = {
    "site": "site",
    "path": "path",
    "referrer_host": "referrer_host",
    "browser": "browser",
    "os": "os",
    "device": "device__exact",
    "bot_reason": "bot_reason__exact",
    "kind": "kind__exact",
    "traffic": "traffic",
    "channel": "channel__exact",
    "utm_source": "utm_source",
    "utm_medium": "utm_medium",
    "utm_campaign": "utm_campaign",
    "language": "language",
    "country": "country",
}


# The hit list's parameters that are arguments of stats.report_for: the date,
# the site, the traffic class, the kind and the signature. Any other filter or
# a search narrows the hits further (see ``selection``).
_NAMED_PARAMETERS = {
    DateFilter.parameter_name,
    DateFilter.since_parameter,
    DateFilter.until_parameter,
    SiteFilter.parameter_name,
    TrafficFilter.parameter_name,
    VerifiedFilter.parameter_name,
    LOOKUP_PARAMETERS["kind"],
    # The page number and the list's error flag select nothing.
    "p",
    "e",
}


@dataclass(frozen=True)
class Selection:
    """The hit list's filters as ``stats.report_for``'s arguments."""

    site: str | None
    start: dt.date | None
    end: dt.date | None
    kind: str | None
    verified: bool | None
    traffic: str
    # A search, another column's filter, or a parameter given twice ("either"):
    # the hits are narrowed beyond the arguments above.
    narrowed: bool
    # A key of stats.periods.PRESETS, "custom" (a range) or "" (every day).
    period: str = ""

    @property
    def previous(self) -> tuple[dt.date, dt.date] | None:
        """The period of as many days just before, to compare with; None if open."""
        return periods.previous(self.start, self.end)


def selection(query: QueryDict) -> Selection:
    """What the hit list's query selects, as the statistics take it."""
    refuse_nul_in(query)
    # An empty search box filters nothing.
    narrowed = any(
        (name not in _NAMED_PARAMETERS and any(values)) or len(values) > 1
        for name, values in query.lists()
    )
    # As VerifiedFilter reads it: verified unless "no" (forged) or "all".
    signature = query.get(VerifiedFilter.parameter_name)
    start, end = requested_days(
        query.get(DateFilter.parameter_name),
        query.get(DateFilter.since_parameter),
        query.get(DateFilter.until_parameter),
    )
    return Selection(
        site=query.get(SiteFilter.parameter_name),
        start=start,
        end=end,
        kind=query.get(LOOKUP_PARAMETERS["kind"]),
        verified=None if signature == "all" else signature != "no",
        traffic=traffic_of(query),
        narrowed=narrowed,
        period=period_of(query),
    )


def refuse_nul(request: HttpRequest) -> None:
    refuse_nul_in(request.GET)


def refuse_nul_in(query: QueryDict) -> None:
    # PostgreSQL refuses NUL in text; a filter or search carrying one is a bad request.
    if any("\x00" in key + "".join(values) for key, values in query.lists()):
        raise SuspiciousOperation("NUL in the page views list query")
