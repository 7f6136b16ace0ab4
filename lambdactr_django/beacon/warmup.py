"""Do at start-up what the first hit of a worker would otherwise wait for.

Two parts. ``warm_up()``: compiling the user-agent parser's and the crawler
list's regular expressions takes a few hundred milliseconds, once per process;
the fast path calls it while the worker loads the application. Nothing is
stored, no database is connected to and no thread is started (with gunicorn's
--preload this runs in the master, before it forks the workers).

``warm_up_worker()``: what each worker process opens for itself, its database
connection (or, buffered, its journal and flusher thread), so the worker's
first hit does not wait for it. Called in the worker, from the server's hook
once the application is loaded (gunicorn's ``post_worker_init``: the example
project's ``example_project/gunicorn_conf.py``); never in a process that forks
afterwards, which would share the connection with its children.
"""

from __future__ import annotations

import contextlib
import io
import logging

from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest

from lambdactr_django import store
from lambdactr_django.beacon import answers, classify
from lambdactr_django.beacon.capture import capture
from lambdactr_django.beacon.signing import TOKEN_PARAMETER
from lambdactr_django.hits import Kind, Resource

logger = logging.getLogger(__name__)

# Never a visitor's.
_NO_AGENT = "-"
# Shaped like a browser's (no browser sends this version), so that the
# parsers run the paths a real visitor's agent takes, not only a short miss.
_BROWSER_LIKE = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/1.0.0.0 Safari/537.36"
)


def warm_up() -> None:
    """Compile, load and build what the beacon builds lazily; never raises."""
    try:
        classify.compile_patterns()
        _check_host(_request())
        capture(_request(), Kind.VIEW, Resource.STYLESHEET)
        capture(_request(_BROWSER_LIKE), Kind.VIEW, Resource.STYLESHEET)
        capture(_request(), Kind.VISITOR_DAY, Resource.STYLESHEET)
        # A HEAD records nothing: each answer's own code runs, nothing is stored.
        for answer in answers.BY_URL_NAME.values():
            answer(_request(method="HEAD"))
        store.warm_up()
    except Exception:
        # A slower first hit is no reason to stop a worker from starting.
        logger.exception("lambdactr: could not warm up the beacon; its first hit will be slower")


def warm_up_worker(*, keep_connection: bool = True) -> None:
    """In a worker process, before its first request: open and try what the store
    keeps per process (see ``store.warm_up_worker``); never raises.

    ``keep_connection``: False where requests are served by other threads than
    this one (gunicorn's gthread workers), whose Django connections are their own.
    """
    try:
        store.warm_up_worker(keep_connection=keep_connection)
    except Exception as error:
        # The database may be down while the worker starts: its first hit then
        # connects (or spools) as it would have without the warm-up.
        logger.warning(
            "lambdactr: could not open the beacon's storage at start-up (%s); "
            "the first hit will try again",
            str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__,
        )


def _check_host(request: WSGIRequest) -> None:
    # Its first call compiles Django's host pattern; the answer does not matter.
    with contextlib.suppress(DisallowedHost):
        request.get_host()


def _request(agent: str = _NO_AGENT, method: str = "GET") -> WSGIRequest:
    # A request no browser sends: an unreadable token, so the signature code runs too.
    return WSGIRequest(
        {
            "REQUEST_METHOD": method,
            "PATH_INFO": "/",
            "QUERY_STRING": f"{TOKEN_PARAMETER}=-",
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "80",
            "HTTP_USER_AGENT": agent,
            "HTTP_REFERER": "https://localhost/",
            "HTTP_ACCEPT_LANGUAGE": "en",
            "wsgi.input": io.BytesIO(),
        }
    )
