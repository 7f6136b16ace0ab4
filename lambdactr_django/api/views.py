"""api/statistics.json: the statistics page's numbers as JSON; api/openapi.json: its schema."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

from django.core.exceptions import SuspiciousOperation
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.utils.dateparse import parse_date
from django.views.decorators.csrf import csrf_exempt

from lambdactr_django import quota, stats
from lambdactr_django.admin.filters import (
    LOOKUP_PARAMETERS,
    DateFilter,
    Selection,
    SiteFilter,
    TrafficFilter,
    VerifiedFilter,
    selection,
)
from lambdactr_django.api import access
from lambdactr_django.hits import Kind
from lambdactr_django.stats import Traffic, rollups

# The version of the response's shape (and of openapi.json): fields may be added
# within a version, none removed or changed.
VERSION = 1
_SAFE_METHODS = ("GET", "HEAD")
# Statistics of a person's sites: never kept by a shared cache, nor by the browser.
_NO_STORE = "private, no-store"


class BadQuery(ValueError):
    pass


# csrf_exempt: only GET and HEAD are answered, and a refusal is JSON, not Django's page.
@csrf_exempt
def statistics(request: HttpRequest) -> HttpResponse:
    if request.method not in _SAFE_METHODS:
        response = _error(405, "Only GET and HEAD are allowed.")
        response["Allow"] = ", ".join(_SAFE_METHODS)
        return response
    try:
        caller = access.caller(request)
    except access.Refused as refused:
        response = _error(refused.status, refused.message)
        if refused.status == 401:
            response["WWW-Authenticate"] = refused.challenge
        return response
    wait = quota.wait_seconds(caller.key)
    if wait:
        response = _error(429, f"Too many requests: try again in {wait} seconds.")
        response["Retry-After"] = str(wait)
        return response
    try:
        chosen = chosen_of(request.GET)
    except BadQuery as bad:
        return _error(400, str(bad))
    # As the statistics page does: sites without a lambdactr_rollup cron job stay fast.
    rollups.catch_up(chosen.start, chosen.end, most=rollups.LAZY_DAYS, months=False)
    report = stats.report_for(
        site=chosen.site,
        start=chosen.start,
        end=chosen.end,
        kind=chosen.kind,
        verified=chosen.verified,
        traffic=chosen.traffic,
    )
    body = {
        "version": VERSION,
        "selection": {"site": chosen.site, "kind": chosen.kind, "verified": chosen.verified},
        "report": report.to_dict(),
    }
    return _json(body, 200)


@cache
def _schema() -> bytes:
    return files("lambdactr_django.api").joinpath("openapi.json").read_bytes()


def openapi(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_schema(), content_type="application/json")
    # It describes the API, not anybody's numbers.
    response["Cache-Control"] = "public, max-age=3600"
    return response


# The choices of each parameter the page's query may carry, as its filters read them.
def _choices() -> dict[str, set[str]]:
    return {
        str(DateFilter.parameter_name): set(DateFilter.presets),
        str(TrafficFilter.parameter_name): set(Traffic.LABELS),
        LOOKUP_PARAMETERS["kind"]: set(Kind.LABELS),
        str(VerifiedFilter.parameter_name): {"no", "all"},
    }


_DATES = (DateFilter.since_parameter, DateFilter.until_parameter)
# What the API counts by; anything else narrows the hits (see Selection.narrowed).
DOCUMENTED = {SiteFilter.parameter_name, *_DATES, "p", "e"}


def chosen_of(query: QueryDict) -> Selection:
    """The page's ``selection`` of this query, or ``BadQuery`` saying what is wrong."""
    try:
        chosen = selection(query)
    except SuspiciousOperation as error:
        raise BadQuery("A parameter holds a NUL character.") from error
    for name, allowed in _choices().items():
        value = query.get(name)
        if value is not None and value not in allowed:
            raise BadQuery(f"{name} should be one of {', '.join(sorted(allowed))}, not {value!r}.")
    for name in _DATES:
        value = query.get(name)
        # Empty, as the page's date form sends an open end.
        if value and not _is_date(value):
            raise BadQuery(f"{name} should be a date as YYYY-MM-DD, not {value!r}.")
    if chosen.narrowed:
        known = DOCUMENTED | set(_choices())
        extra = sorted(
            name for name, values in query.lists() if name not in known or len(values) > 1
        )
        raise BadQuery(
            "The JSON statistics count by the site, the dates, the traffic class, the kind "
            "and the signature, each given once; not by a search or another filter: "
            + ", ".join(extra)
            + "."
        )
    return chosen


def _is_date(value: str) -> bool:
    try:
        return parse_date(value) is not None
    except ValueError:
        return False


def _error(status: int, message: str) -> JsonResponse:
    return _json({"error": {"status": status, "message": message}}, status)


def _json(body: dict[str, Any], status: int) -> JsonResponse:
    response = JsonResponse(
        body, status=status, encoder=DjangoJSONEncoder, json_dumps_params={"ensure_ascii": False}
    )
    response["Cache-Control"] = _NO_STORE
    response["X-Content-Type-Options"] = "nosniff"
    return response
