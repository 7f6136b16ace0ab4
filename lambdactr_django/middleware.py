"""``VaryOnRefererMiddleware``: pages whose counter link depends on the visitor's
``Referer`` say so to caches.

The template tags sign the visitor's external referrer into the link, so a
shared cache that kept one rendering would hand one visitor's referrer to
everybody (and count it each time). The tag marks the request; this adds
``Vary: Referer`` to its response.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_vary_headers

# Set by the template tags on the request they render for.
REQUEST_ATTRIBUTE = "_lambdactr_varies_on_referer"


def mark(request: HttpRequest) -> None:
    setattr(request, REQUEST_ATTRIBUTE, True)


class VaryOnRefererMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if getattr(request, REQUEST_ATTRIBUTE, False):
            patch_vary_headers(response, ("Referer",))
        return response
