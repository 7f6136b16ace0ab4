"""A shared dashboard: one site's statistics page for whoever has its link, without
the admin and without any hit-level data (no hit list, headers or export)."""

from __future__ import annotations

import dataclasses

from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotFound, QueryDict
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_safe

from lambdactr_django import quota
from lambdactr_django.admin.controls import PERIOD_PARAMETERS
from lambdactr_django.admin.filters import TrafficFilter, refuse_nul_in, selection
from lambdactr_django.admin.shared import open_link
from lambdactr_django.admin.statistics import HitListLinks, count, page_context

# The only parameters a shared page reads: the period and the traffic class.
ALLOWED = (*PERIOD_PARAMETERS, TrafficFilter.parameter_name)


@require_safe
def shared_statistics(request: HttpRequest, key: str) -> HttpResponseBase:
    link = open_link(key)
    if link is None:
        # Unknown, revoked or expired: the same answer, telling nothing.
        return _private(HttpResponseNotFound("Not found\n", content_type="text/plain"))
    # Each page counts two periods: a link posted in public must not become a
    # way to keep the database busy.
    wait = quota.wait_seconds(f"shared:{link.pk}")
    if wait:
        response = HttpResponse(
            "Too many requests: try again in a minute.\n", content_type="text/plain", status=429
        )
        response.headers["Retry-After"] = str(wait)
        return _private(response)
    query = QueryDict(mutable=True)
    for name in ALLOWED:
        if name in request.GET:
            query[name] = request.GET[name]
    refuse_nul_in(query)
    chosen = dataclasses.replace(selection(query), site=link.site, narrowed=False)
    report, previous = count(chosen, lambda start, end: None)
    links = HitListLinks(None, request.path, query)
    context = {
        **page_context(chosen, report, previous, links, query),
        "hit_level": False,
        "shared": link,
        "title": f"Statistics of {link.site}",
    }
    response = TemplateResponse(request, "lambdactr_django/shared.html", context)
    return _private(response)


def _private(response: HttpResponse) -> HttpResponse:
    # Never in a shared cache, never indexed, and the token never in a Referer.
    add_never_cache_headers(response)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
