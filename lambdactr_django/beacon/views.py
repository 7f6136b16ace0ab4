"""The beacon's views: Django's door to the answers in answers.py.

fastpath.py is the other door, ahead of the middleware; both call the same
answers, so a project may use either and gets the same behaviour.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotModified
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from lambdactr_django.beacon import answers
from lambdactr_django.beacon.answers import TRANSPARENT_GIF, Answer

__all__ = ["TRANSPARENT_GIF", "image", "response_for", "stylesheet", "visitor_day"]


@csrf_exempt  # so a POST gets 405 rather than a 403 from CsrfViewMiddleware
@require_safe
@transaction.non_atomic_requests
def stylesheet(request: HttpRequest) -> HttpResponseBase:
    """An empty stylesheet; each GET stores one page view."""
    return response_for(answers.stylesheet(request))


@csrf_exempt
@require_safe
@transaction.non_atomic_requests
def image(request: HttpRequest) -> HttpResponseBase:
    """A transparent 1x1 GIF for feed readers and e-mail; each GET stores one page view."""
    return response_for(answers.image(request))


@csrf_exempt
@require_safe
@transaction.non_atomic_requests
def visitor_day(request: HttpRequest) -> HttpResponseBase:
    """An empty stylesheet the browser keeps until midnight; each GET is one visitor-day."""
    return response_for(answers.visitor_day(request))


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


def response_for(answer: Answer) -> HttpResponse:
    """``answer`` as a response that no middleware can add a cookie to."""
    response: HttpResponse
    if answer.status == 304:
        response = CookielessNotModified()
    else:
        response = CookielessResponse(answer.body, status=answer.status)
    for name, value in answer.headers:
        response[name] = value
    return response


def empty_stylesheet() -> HttpResponse:
    return response_for(answers.uncacheable(b"", "text/css"))
