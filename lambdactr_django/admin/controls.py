"""The statistics page's controls: the period, the site, and the active filters as
chips. Every state is a URL (links and GET forms), so any view can be shared."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import QueryDict
from django.urls import reverse

from lambdactr_django.admin.filters import (
    LOOKUP_PARAMETERS,
    DateFilter,
    Selection,
    SiteFilter,
    recent_values,
)
from lambdactr_django.hits import BotReason, Device, Kind, Resource
from lambdactr_django.models import HeaderHit
from lambdactr_django.stats import Traffic, periods

PERIOD_PARAMETERS = (
    DateFilter.parameter_name,
    DateFilter.since_parameter,
    DateFilter.until_parameter,
)
# The page number and the list's error flag mean nothing on the statistics.
_IGNORED = ("p", "e")

# How a chip names a filter, and the words for coded values.
_FILTER_LABELS = {
    SiteFilter.parameter_name: "Site",
    "traffic": "Traffic",
    LOOKUP_PARAMETERS["kind"]: "Kind",
    LOOKUP_PARAMETERS["device"]: "Device",
    LOOKUP_PARAMETERS["browser"]: "Browser",
    LOOKUP_PARAMETERS["os"]: "OS",
    LOOKUP_PARAMETERS["path"]: "Page",
    LOOKUP_PARAMETERS["referrer_host"]: "Referrer",
    LOOKUP_PARAMETERS["bot_reason"]: "Bot reason",
    "resource__exact": "Loaded as",
    "external": "External referrer",
    "verified": "Signature",
    "q": "Search",
}
_VALUE_LABELS: dict[str, dict[str, str]] = {
    "traffic": dict(Traffic.LABELS),
    LOOKUP_PARAMETERS["kind"]: dict(Kind.LABELS),
    LOOKUP_PARAMETERS["device"]: dict(Device.LABELS),
    LOOKUP_PARAMETERS["bot_reason"]: dict(BotReason.LABELS),
    "resource__exact": dict(Resource.LABELS),
    "external": {"yes": "yes", "no": "no"},
    "verified": {"no": "forged or broken", "all": "all"},
}


@dataclass(frozen=True, slots=True)
class Choice:
    label: str
    url: str
    selected: bool


@dataclass(frozen=True, slots=True)
class Chip:
    label: str
    value: str
    remove_url: str


def pairs(query: QueryDict, drop: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Every parameter of ``query`` but ``drop`` (and the page number), in order."""
    dropped = {*drop, *_IGNORED}
    return [
        (name, value) for name, values in query.lists() if name not in dropped for value in values
    ]


def url_with(url: str, query: QueryDict, drop: tuple[str, ...] = (), **values: str) -> str:
    """``url`` with ``query`` but ``drop``, and ``values`` set."""
    kept = [pair for pair in pairs(query, (*drop, *values)) if pair[0] not in values]
    kept += [(name, value) for name, value in values.items() if value != ""]
    return f"{url}?{urlencode(kept)}" if kept else url


def period_choices(url: str, query: QueryDict, chosen: Selection) -> list[Choice]:
    """A link to each preset period (and to every day), keeping the other filters."""
    choices = [
        Choice(label, url_with(url, query, PERIOD_PARAMETERS, when=key), chosen.period == key)
        for key, label in periods.PRESETS.items()
    ]
    choices.append(Choice("All dates", url_with(url, query, PERIOD_PARAMETERS), not chosen.period))
    return choices


def range_values(query: QueryDict, chosen: Selection) -> dict[str, str]:
    """What the custom-range form shows: the days chosen, as the date inputs take them."""
    return {
        "since": chosen.start.isoformat() if chosen.start else "",
        "until": chosen.end.isoformat() if chosen.end else "",
    }


def chips(url: str, query: QueryDict) -> list[Chip]:
    """Each filter of ``query`` beyond the period, with a link to the page without it."""
    shown = []
    for name, value in pairs(query, PERIOD_PARAMETERS):
        if value == "" and name == "q":
            continue
        label = _FILTER_LABELS.get(name, name)
        words = _VALUE_LABELS.get(name, {})
        remaining = QueryDict(mutable=True)
        for other, other_value in pairs(query):
            if (other, other_value) != (name, value):
                remaining.appendlist(other, other_value)
        shown.append(
            Chip(
                label=label,
                value=words.get(value, value) if value else "(unknown)",
                remove_url=url_with(url, remaining),
            )
        )
    return shown


def site_choices(chosen: Selection) -> list[tuple[str, str, bool]]:
    """The sites of the latest hits (and the chosen one), for the site form."""
    sites = recent_values(HeaderHit.objects.all(), "site", [chosen.site])
    return [
        (site, site or "(unknown)", site == chosen.site) for site in sites[: SiteFilter.max_sites]
    ]


def json_url(query: QueryDict) -> str:
    """The JSON of the page's numbers with the same filters (lambdactr_django.api)."""
    return url_with(reverse("lambdactr:api_statistics"), query)
