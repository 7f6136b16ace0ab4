"""The beacon's three answers, the one implementation behind both doors.

The views (views.py, through Django's middleware) and the fast path
(fastpath.py, ahead of it) call the same functions here. Each records what the
request should record and returns an ``Answer``: status, headers and body as
plain values, so the fast path hands them to the WSGI server as they are and
the views wrap them in a response.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
from collections.abc import Callable
from typing import NamedTuple

from django.utils.http import http_date, parse_http_date_safe

from lambdactr_django import days, store
from lambdactr_django.beacon import ratelimit
from lambdactr_django.beacon.capture import capture, should_store
from lambdactr_django.beacon.lightrequest import BeaconRequest
from lambdactr_django.beacon.signing import TOKEN_PARAMETER
from lambdactr_django.conf import conf
from lambdactr_django.hits import Kind, Resource

# The name the view has always logged under: both doors log as it does, so a
# LOGGING setup written for the view also hears the fast path.
logger = logging.getLogger("lambdactr_django.beacon.views")

# The smallest transparent 1x1 GIF (43 bytes).
TRANSPARENT_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00"
    b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)

Headers = list[tuple[str, str]]


class Answer(NamedTuple):
    status: int
    # Content-Type among them, when the answer has a body.
    headers: Headers
    body: bytes


def stylesheet(request: BeaconRequest) -> Answer:
    """An empty stylesheet; each GET stores one page view."""
    if request.method == "GET":
        record(request, Kind.VIEW, Resource.STYLESHEET)
    return uncacheable(b"", "text/css")


def image(request: BeaconRequest) -> Answer:
    """A transparent 1x1 GIF for feed readers and e-mail; each GET stores one page view."""
    if request.method == "GET":
        record(request, Kind.VIEW, Resource.IMAGE)
    return uncacheable(TRANSPARENT_GIF, "image/gif")


# The visitor link's Last-Modified is the site's midnight plus this browser's
# views so far today, at most this many seconds: "one", or "two or more". Every
# browser at the same count sends the same date back, so it tells one from
# another no better than the day does.
VIEWS_COUNTED = 2


def visitor_day(request: BeaconRequest) -> Answer:
    """An empty stylesheet revalidated on every page: its Last-Modified counts this
    browser's views today (docs/visits.md). The first GET of the day is one
    visitor-day (a visit), the second a second view; later ones store nothing."""
    day_started = days.start_of(days.today()).timestamp()
    seen = views_seen(request.META.get("HTTP_IF_MODIFIED_SINCE", ""), day_started)
    if seen >= VIEWS_COUNTED:
        return Answer(304, counted_views(day_started, VIEWS_COUNTED), b"")
    if request.method == "GET" and conf.DAILY_VISITORS:
        record(request, Kind.VISITOR_DAY if seen == 0 else Kind.SECOND_VIEW, Resource.STYLESHEET)
    headers = [("Content-Type", "text/css"), *counted_views(day_started, seen + 1)]
    return Answer(200, headers, b"")


def views_seen(if_modified_since: str, day_started: float) -> int:
    """This browser's views today before this one, by the date it sent back (at most
    ``VIEWS_COUNTED``); 0 without one or with one of an earlier day."""
    since = parse_http_date_safe(if_modified_since)
    if since is None or since < day_started:
        return 0
    seen = since - day_started
    # Midnight itself: a copy of the day-long stylesheet this replaced, whose
    # first view was counted; a date past the counts: not one this counter sent.
    if seen == 0 or seen > VIEWS_COUNTED:
        return VIEWS_COUNTED
    return int(seen)


# By the URL names of lambdactr_django.urls, which the fast path reverses.
BY_URL_NAME: dict[str, Callable[[BeaconRequest], Answer]] = {
    "stylesheet": stylesheet,
    "daily": visitor_day,
    "image": image,
}


def record(request: BeaconRequest, kind: str, resource: str) -> None:
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


def _counts_once_more(request: BeaconRequest) -> bool:
    # Only a signed token names a referrer (an unsigned beacon's Referer is the
    # page itself), so the token is there.
    return ratelimit.referrer_link_counts(request.GET.get(TOKEN_PARAMETER, ""))


def uncacheable(body: bytes, content_type: str) -> Answer:
    # A fresh ETag and no-store: the browser must fetch again on every view.
    return Answer(
        200,
        [
            ("Content-Type", content_type),
            ("ETag", f'"{secrets.token_hex(16)}"'),
            ("Cache-Control", "no-cache, no-store, must-revalidate"),
            ("Cross-Origin-Resource-Policy", "cross-origin"),
        ],
        body,
    )


def counted_views(day_started: float, views: int) -> Headers:
    # private: a shared cache would revalidate for many browsers at once. no-cache:
    # the browser asks again on every page, with the date below. No ETag: nothing
    # that could tell one browser from another.
    return [
        ("Cache-Control", "private, no-cache"),
        ("Last-Modified", http_date(day_started + views)),
        ("Cross-Origin-Resource-Policy", "cross-origin"),
    ]
