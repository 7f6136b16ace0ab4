from __future__ import annotations

import logging
import secrets
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from lambdactr_django import ratelimit, spool
from lambdactr_django.capture import capture

logger = logging.getLogger(__name__)


@csrf_exempt  # so a POST gets 405 rather than a 403 from CsrfViewMiddleware
@require_safe
@transaction.non_atomic_requests
def stylesheet(request: HttpRequest) -> HttpResponseBase:
    """An empty stylesheet; each GET stores one hit."""
    if request.method == "GET":
        record(request)
    return empty_stylesheet()


def record(request: HttpRequest) -> None:
    # The page embedding the link must never see an error: log and carry on.
    # A refused or spooled hit gets the same answer as a stored one.
    try:
        if ratelimit.allow(request):
            spool.save(capture(request))
    except Exception:
        logger.exception("lambdactr: could not store a hit")


class CookielessResponse(HttpResponse):
    # The beacon never sets a cookie, whatever a middleware wants: CSRF
    # middleware renews a malformed csrftoken cookie, session middleware
    # deletes an empty session's.
    def set_cookie(self, *args: Any, **kwargs: Any) -> None:
        pass

    def delete_cookie(self, *args: Any, **kwargs: Any) -> None:
        pass


def empty_stylesheet() -> HttpResponse:
    response = CookielessResponse(b"", content_type="text/css")
    # A fresh ETag and no-store: the browser must fetch again on every view.
    response["ETag"] = f'"{secrets.token_hex(16)}"'
    response["Cache-Control"] = "no-cache, no-store, must-revalidate"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
