from __future__ import annotations

import dataclasses
import logging
import secrets
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotModified
from django.utils.http import http_date, parse_http_date_safe
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from lambdactr_django import days, store
from lambdactr_django.beacon import ratelimit
from lambdactr_django.beacon.capture import capture, should_store
from lambdactr_django.beacon.signing import TOKEN_PARAMETER
from lambdactr_django.conf import conf
from lambdactr_django.hits import Kind, Resource

logger = logging.getLogger(__name__)

# The smallest transparent 1x1 GIF (43 bytes).
TRANSPARENT_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00"
    b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


@csrf_exempt  # so a POST gets 405 rather than a 403 from CsrfViewMiddleware
@require_safe
@transaction.non_atomic_requests
def stylesheet(request: HttpRequest) -> HttpResponseBase:
    """An empty stylesheet; each GET stores one page view."""
    if request.method == "GET":
        record(request, Kind.VIEW, Resource.STYLESHEET)
    return empty_stylesheet()


@csrf_exempt
@require_safe
@transaction.non_atomic_requests
def image(request: HttpRequest) -> HttpResponseBase:
    """A transparent 1x1 GIF for feed readers and e-mail; each GET stores one page view."""
    if request.method == "GET":
        record(request, Kind.VIEW, Resource.IMAGE)
    return uncacheable(CookielessResponse(TRANSPARENT_GIF, content_type="image/gif"))


@csrf_exempt
@require_safe
@transaction.non_atomic_requests
def visitor_day(request: HttpRequest) -> HttpResponseBase:
    """An empty stylesheet the browser keeps until midnight; each GET is one visitor-day."""
    day_started = days.start_of(days.today()).timestamp()
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    if since is not None and since >= day_started:
        # A revalidation (Chromium's reload, say) of a copy fetched today: this
        # browser was counted already.
        return cacheable_until_midnight(CookielessNotModified(), day_started)
    if request.method == "GET" and conf.DAILY_VISITORS:
        record(request, Kind.VISITOR_DAY, Resource.STYLESHEET)
    return cacheable_until_midnight(CookielessResponse(b"", content_type="text/css"), day_started)


def record(request: HttpRequest, kind: str, resource: str) -> None:
    # The page embedding the link must never see an error: log and carry on.
    # A refused or spooled hit gets the same answer as a stored one.
    try:
        if not ratelimit.allow(request):
            return
        hit = capture(request, kind, resource)
        if hit.verified and hit.referrer and not _counts_once_more(request):
            # Kept, but out of the default statistics, with the unsigned ones.
            hit = dataclasses.replace(hit, verified=False)
        if should_store(hit):
            store.save(hit)
    except Exception:
        logger.exception("lambdactr: could not store a hit")


def _counts_once_more(request: HttpRequest) -> bool:
    # Only a signed token names a referrer (an unsigned beacon's Referer is the
    # page itself), so the token is there.
    return ratelimit.referrer_link_counts(request.GET.get(TOKEN_PARAMETER, ""))


class _NoCookies:
    # The beacon never sets a cookie, whatever a middleware wants: CSRF
    # middleware renews a malformed csrftoken cookie, session middleware
    # deletes an empty session's.
    def set_cookie(self, *args: Any, **kwargs: Any) -> None:
        pass

    def delete_cookie(self, *args: Any, **kwargs: Any) -> None:
        pass


class CookielessResponse(_NoCookies, HttpResponse):
    pass


class CookielessNotModified(_NoCookies, HttpResponseNotModified):
    pass


def empty_stylesheet() -> HttpResponse:
    return uncacheable(CookielessResponse(b"", content_type="text/css"))


def uncacheable(response: HttpResponse) -> HttpResponse:
    # A fresh ETag and no-store: the browser must fetch again on every view.
    response["ETag"] = f'"{secrets.token_hex(16)}"'
    response["Cache-Control"] = "no-cache, no-store, must-revalidate"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def cacheable_until_midnight(response: HttpResponse, day_started: float) -> HttpResponse:
    # private: a shared cache would answer for many browsers. No ETag: nothing
    # that could tell one browser from another. Last-Modified is the start of
    # the day, the same for everybody, so a revalidation can be answered 304.
    response["Cache-Control"] = f"private, max-age={days.seconds_until_midnight()}"
    response["Last-Modified"] = http_date(day_started)
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
