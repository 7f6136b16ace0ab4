from __future__ import annotations

import contextlib
from typing import Any

from django import template
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.utils.safestring import SafeString

from lambdactr_django import middleware
from lambdactr_django.beacon.clean import page_from_url
from lambdactr_django.beacon.embed import image_html, image_url, links_html, page_for_request
from lambdactr_django.conf import conf

register = template.Library()


@register.simple_tag(takes_context=True)
def tracking_link(context: template.Context) -> SafeString:
    """The counter's ``<link rel="stylesheet" media="none">`` for the page being rendered,
    followed by the daily-visitor link unless ``LAMBDACTR_DAILY_VISITORS`` is False.

    With ``request`` in the context the link is signed for this page and carries
    the visitor's external referrer; without it the counter falls back to the
    stylesheet request's ``Referer``.
    """
    request = context.get("request")
    page = page_for_request(request) if isinstance(request, HttpRequest) else None
    if page is not None and isinstance(request, HttpRequest):
        # The link carries the visitor's referrer: caches must key on it.
        middleware.mark(request)
    return links_html(page, nonce=_csp_nonce(context, request))


@register.simple_tag(takes_context=True)
def tracking_pixel(context: template.Context, page_url: str = "") -> SafeString:
    """A 1x1 transparent ``<img>`` that counts a view where a stylesheet cannot load:
    feed readers and HTML e-mail.

    ``page_url`` (absolute) names the page to count, e.g. the post in a feed item;
    by default it is the page being rendered. The image URL is absolute, on
    ``LAMBDACTR_BASE_URL`` or else on the request's host, so it works off-site.
    """
    found = context.get("request")
    request = found if isinstance(found, HttpRequest) else None
    page = page_from_url(page_url) if page_url else None
    if page is None or not page.site:
        page = page_for_request(request) if request is not None else None
        if page is not None and request is not None:
            middleware.mark(request)
    url = image_url(page)
    if not conf.BASE_URL and request is not None:
        # With a bad host a relative URL still works on the site's own pages.
        with contextlib.suppress(DisallowedHost):
            url = request.build_absolute_uri(url)
    return image_html(url)


def _csp_nonce(context: template.Context, request: Any) -> str | None:
    # Django 6's CSP context processor and django-csp both expose the nonce.
    nonce = context.get("csp_nonce") or getattr(request, "csp_nonce", None)
    return str(nonce) if nonce else None
