"""The fast path: the beacon's URLs answered ahead of Django's request machinery.

The way WhiteNoise serves static files: ``BeaconFastPath`` wraps the WSGI
application and answers GET and HEAD of the counter's three URLs itself, from
an allowed host, before Django builds its request, resolves the URL or runs a
middleware. ``BeaconFastPathMiddleware`` does the same from the first place in
``MIDDLEWARE``, for projects that would rather change a setting than wsgi.py.
Both call the answers the views call (answers.py), so the behaviour is one.

Everything else goes on to Django unchanged: other URLs, other methods (the
view answers 405), a Host not in ALLOWED_HOSTS (Django answers 400 and logs it).

Like WhiteNoise's answers, the fast path's are outside Django's request cycle:
no request_started or request_finished (their receivers cost a quarter of the
fast path's time). What the beacon needs of them, keeping database connections
to CONN_MAX_AGE and dropping broken ones, it does itself after each answer.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import TYPE_CHECKING

from django.core.exceptions import DisallowedHost, ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import close_old_connections, connections
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponseBase
from django.urls import NoReverseMatch, Resolver404, get_script_prefix, resolve, reverse

from lambdactr_django.beacon.lightrequest import BeaconRequest, LightRequest

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from lambdactr_django.beacon.answers import Answer

# The beacon's own modules are imported when the fast path is built, not with
# this module: wsgi.py imports it before Django is set up, as it would WhiteNoise
# (lightrequest.py reads no setting when imported).

logger = logging.getLogger(__name__)

Route = Callable[[BeaconRequest], "Answer"]

_ANSWERED_METHODS = frozenset({"GET", "HEAD"})
_STATUS_LINES = {status: f"{status} {HTTPStatus(status).phrase}" for status in (200, 304)}


def routes() -> dict[str, Route]:
    """The beacon's answers by path (PATH_INFO), from the URLconf as it is now."""
    # reverse() rather than a setting: the prefix is wherever the project's
    # include() put the URLs, which {% tracking_link %} renders too.
    from lambdactr_django.beacon import answers

    prefix = get_script_prefix()
    found: dict[str, Route] = {}
    for name, answer in answers.BY_URL_NAME.items():
        try:
            url = reverse(f"lambdactr:{name}")
        except NoReverseMatch as error:
            raise ImproperlyConfigured(
                "The beacon's fast path needs the counter's URLs in the URLconf: "
                'add path("ctr/", include("lambdactr_django.urls")).'
            ) from error
        path = "/" + url.removeprefix(prefix)
        if _routed_to_the_beacon(path, name):
            found[path] = answer
    return found


def _routed_to_the_beacon(path: str, name: str) -> bool:
    # Only where Django itself would call the beacon: a pattern earlier in the
    # URLconf that takes the same path keeps it.
    try:
        match = resolve(path)
    except Resolver404:
        match = None
    if match is not None and match.view_name == f"lambdactr:{name}":
        return True
    logger.warning("lambdactr: %s is not routed to the beacon; the fast path leaves it", path)
    return False


def allowed_host(request: BeaconRequest) -> bool:
    host = request.META.get("HTTP_HOST")
    if host is None or "HTTP_X_FORWARDED_HOST" in request.META:
        # Rare for a browser: Django's own check, uncached.
        return _passes_get_host(request)
    return _host_allowed(host)


# By Host header: a site's visitors send the same few. Bounded, so made-up
# hosts only push each other out; forgotten when a setting changes
# (ALLOWED_HOSTS, DEBUG), as override_settings() tells.
@functools.lru_cache(maxsize=64)
def _host_allowed(host: str) -> bool:
    # Django's check itself, of a request with this Host and nothing else.
    request = HttpRequest()
    request.META = {"HTTP_HOST": host}
    return _passes_get_host(request)


def _passes_get_host(request: BeaconRequest | HttpRequest) -> bool:
    try:
        request.get_host()
    except DisallowedHost:
        return False
    return True


def _forget_hosts(**kwargs: object) -> None:
    _host_allowed.cache_clear()


setting_changed.connect(_forget_hosts, dispatch_uid="lambdactr_django.beacon.fastpath")


# Whether this thread has opened a database connection. Django's connections
# are per thread: one that never connected has none to close, and a buffered
# hit's thread usually never does (the flusher stores the hits). Asking
# close_old_connections() anyway walks every alias on every hit.
_this_thread = threading.local()


def _connected(**kwargs: object) -> None:
    _this_thread.connected = True


connection_created.connect(_connected, dispatch_uid="lambdactr_django.beacon.fastpath.connected")


def _note_open_connections() -> None:
    # Those opened before this module heard of connections (in this thread only).
    if any(conn.connection is not None for conn in connections.all(initialized_only=True)):
        _connected()


def close_old_connections_if_connected() -> None:
    """What Django's request_finished does to this thread's connections, if it has any."""
    if getattr(_this_thread, "connected", False):
        close_old_connections()


class BeaconFastPath:
    """WSGI middleware: ``application = BeaconFastPath(get_wsgi_application())``."""

    def __init__(self, application: WSGIApplication, *, warm_up: bool = True) -> None:
        self.application = application
        self.routes = routes()
        _note_open_connections()
        if warm_up:
            # In the worker, while it loads the application: before its first hit.
            _warm_up()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        route = self.routes.get(environ.get("PATH_INFO", ""))
        if route is None or environ.get("REQUEST_METHOD", "").upper() not in _ANSWERED_METHODS:
            return self.application(environ, start_response)
        request = LightRequest(environ)
        if not allowed_host(request):
            return self.application(environ, start_response)
        try:
            answer = route(request)
        except BaseException:
            close_old_connections_if_connected()
            raise
        headers = [*answer.headers, ("Content-Length", str(len(answer.body)))]
        start_response(_STATUS_LINES[answer.status], headers)
        # HEAD: the length a GET would have, and no body (RFC 9110), whatever the
        # server does; Django's handler strips it on the other door.
        return _Body(b"" if request.method == "HEAD" else answer.body)


class _Body:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def __iter__(self) -> Iterator[bytes]:
        return iter((self.body,))

    def close(self) -> None:
        # The server calls this once the answer is sent: where Django's
        # request_finished closes a connection past CONN_MAX_AGE or broken.
        close_old_connections_if_connected()


class BeaconFastPathMiddleware:
    """The fast path as a middleware: first in ``MIDDLEWARE``, so that only
    Django's handler, and no middleware, runs before a hit is answered."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        from lambdactr_django.beacon.views import response_for

        self.get_response = get_response
        self.routes = routes()
        self.response_for = response_for
        _warm_up()

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        route = self.routes.get(request.path_info)
        if route is None or request.method not in _ANSWERED_METHODS or not allowed_host(request):
            return self.get_response(request)
        return self.response_for(route(request))


def _warm_up() -> None:
    from lambdactr_django.beacon import warmup

    warmup.warm_up()
