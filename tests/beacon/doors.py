"""The beacon's doors, for the tests that must hold through every one of them.

"view": Django's request machinery, middleware, URL resolution and the view;
"wsgi": ``BeaconFastPath`` around Django's handler; "middleware":
``BeaconFastPathMiddleware`` first in MIDDLEWARE. A test client of each is
made by ``client_for``; requests the fast path leaves go on to Django, as in
a server.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from unittest import mock

from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse, HttpResponseBase
from django.test import Client
from django.test.client import ClientHandler, conditional_content_removal
from django.test.utils import override_settings

from lambdactr_django.beacon import fastpath
from lambdactr_django.beacon.fastpath import BeaconFastPath

DOORS = ["view", "wsgi", "middleware"]
FAST_DOORS = ["wsgi", "middleware"]
MIDDLEWARE_PATH = "lambdactr_django.beacon.fastpath.BeaconFastPathMiddleware"


class FastPathHandler(ClientHandler):
    """The test client's handler behind ``BeaconFastPath``."""

    def __call__(self, environ: dict[str, Any]) -> HttpResponseBase:
        passed_on: list[HttpResponseBase] = []

        def django(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            passed_on.append(ClientHandler.__call__(self, environ))
            return []

        started: list[tuple[str, list[tuple[str, str]]]] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> Any:
            started.append((status, headers))

        # As ClientHandler keeps close_old_connections from its signals: the
        # test's transaction must outlive the request (test_fastpath tests the call).
        with mock.patch.object(fastpath, "close_old_connections", return_value=None):
            # Made per request, so that override_settings(ROOT_URLCONF) is seen.
            body = BeaconFastPath(django, warm_up=False)(environ, start_response)
            if passed_on:
                return passed_on[0]
            try:
                content = b"".join(body)
            finally:
                body.close()  # type: ignore[attr-defined]
        [(status, headers)] = started
        return _response(WSGIRequest(environ), status, headers, content)


def _response(
    request: WSGIRequest, status: str, headers: list[tuple[str, str]], content: bytes
) -> HttpResponse:
    # What the WSGI server was handed, as the response object tests read.
    response = HttpResponse(content, status=int(status.split(" ", 1)[0]))
    del response["Content-Type"]
    for name, value in headers:
        if name.lower() == "set-cookie":
            response.cookies.load(value)
        else:
            assert name not in response, f"{name} sent twice"
            response[name] = value
    response.wsgi_request = request  # type: ignore[attr-defined]
    return conditional_content_removal(request, response)


class FastPathClient(Client):
    def __init__(self, enforce_csrf_checks: bool = False, **defaults: Any) -> None:
        super().__init__(enforce_csrf_checks, **defaults)
        self.handler = FastPathHandler(enforce_csrf_checks)


def client_for(door: str, **defaults: Any) -> Client:
    if door == "wsgi":
        return FastPathClient(**defaults)
    return Client(**defaults)


def door_settings(door: str) -> override_settings | None:
    if door == "middleware":
        return override_settings(MIDDLEWARE=[MIDDLEWARE_PATH, *settings.MIDDLEWARE])
    return None
