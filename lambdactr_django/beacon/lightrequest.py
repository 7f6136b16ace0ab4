"""What the beacon's answers read of a request, and the fast path's light request.

The answers (answers.py, capture.py, ratelimit.py, country.py) read only
``BeaconRequest``: the view hands them Django's request, the fast path a
``LightRequest`` over the WSGI environ. Building Django's ``WSGIRequest`` for a
hit copies the environ and sets up what the beacon never reads (a stream, the
content type, the path); this reads the environ where it is.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Protocol

from django.core.handlers.wsgi import WSGIRequest, get_bytes_from_wsgi
from django.http import QueryDict
from django.http.request import HttpHeaders

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment


class BeaconRequest(Protocol):
    @property
    def META(self) -> dict[str, Any]: ...

    @property
    def GET(self) -> QueryDict: ...

    @property
    def method(self) -> str | None: ...

    @property
    def headers(self) -> HttpHeaders: ...

    def get_host(self) -> str: ...


class LightRequest:
    """A beacon request read straight from its WSGI environ, which it never changes."""

    def __init__(self, environ: WSGIEnvironment) -> None:
        # The environ itself, not a copy: read, never written, and Django may
        # still get it when the fast path leaves the request.
        self.META: dict[str, Any] = environ
        self.method: str = str(environ.get("REQUEST_METHOD", "")).upper()

    @functools.cached_property
    def GET(self) -> QueryDict:
        # As WSGIRequest.GET parses it, DATA_UPLOAD_MAX_NUMBER_FIELDS included.
        query = get_bytes_from_wsgi(self.META, "QUERY_STRING", "")
        return QueryDict(query) if query else _empty_query()

    @functools.cached_property
    def headers(self) -> HttpHeaders:
        return HttpHeaders(self.META)

    def get_host(self) -> str:
        # Rare on the beacon (no Host, or X-Forwarded-Host): Django's own
        # request, so the answer is Django's, proxies and ports included.
        return WSGIRequest({**self.META}).get_host()


@functools.cache
def _empty_query() -> QueryDict:
    # Immutable, so one serves every request without a query string; made on
    # first use, since this module is imported before Django's settings are.
    return QueryDict()
