"""Do at start-up what the first hit of a worker would otherwise wait for.

Compiling the user-agent parser's and the crawler list's regular expressions
takes a few hundred milliseconds, once per process; the fast path calls
``warm_up()`` while the worker loads the application, before its first hit.
Nothing is stored, no database is connected to and no thread is started (with
gunicorn's --preload this runs in the master, before it forks the workers).
"""

from __future__ import annotations

import contextlib
import io
import logging

from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest

from lambdactr_django import days, store
from lambdactr_django.beacon import answers, classify
from lambdactr_django.beacon.capture import capture
from lambdactr_django.beacon.signing import TOKEN_PARAMETER
from lambdactr_django.hits import Kind, Resource

logger = logging.getLogger(__name__)

# Never a visitor's.
_NO_AGENT = "-"


def warm_up() -> None:
    """Compile, load and build what the beacon builds lazily; never raises."""
    try:
        classify.compile_patterns()
        _check_host(_request())
        capture(_request(), Kind.VIEW, Resource.STYLESHEET)
        capture(_request(), Kind.VISITOR_DAY, Resource.STYLESHEET)
        answers.uncacheable(b"", "text/css")
        answers.counted_views(days.start_of(days.today()).timestamp(), 1)
        store.warm_up()
    except Exception:
        # A slower first hit is no reason to stop a worker from starting.
        logger.exception("lambdactr: could not warm up the beacon; its first hit will be slower")


def _check_host(request: WSGIRequest) -> None:
    # Its first call compiles Django's host pattern; the answer does not matter.
    with contextlib.suppress(DisallowedHost):
        request.get_host()


def _request() -> WSGIRequest:
    # A request no browser sends: an unreadable token, so the signature code runs too.
    return WSGIRequest(
        {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/",
            "QUERY_STRING": f"{TOKEN_PARAMETER}=-",
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "80",
            "HTTP_USER_AGENT": _NO_AGENT,
            "HTTP_REFERER": "https://localhost/",
            "HTTP_ACCEPT_LANGUAGE": "en",
            "wsgi.input": io.BytesIO(),
        }
    )
