"""Build the counter's ``<link>`` for a page: used by the template tag and the snippet command."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from lambdactr_django.capture import (
    TOKEN_PARAMETER,
    Page,
    clean_path,
    clean_referrer,
    clean_site,
    sign_page,
)
from lambdactr_django.conf import conf

# Lets the full page URL reach a counter on another host (the default policy
# would send only the origin); still sends nothing from HTTPS to plain HTTP.
REFERRER_POLICY = "no-referrer-when-downgrade"


def page_for_request(request: HttpRequest) -> Page | None:
    """The page being rendered and the visitor's external referrer; None for a bad host."""
    try:
        host = request.get_host()
    except DisallowedHost:
        return None
    return Page(
        site=clean_site(host),
        path=clean_path(request.path),
        referrer=external_referrer(request.headers.get("Referer", ""), host),
    )


def external_referrer(referer: str, host: str) -> str:
    """``referer`` when it points away from ``host``; "" for internal navigation."""
    referrer = clean_referrer(referer)
    try:
        referrer_host = urlsplit(referrer).netloc
    except ValueError:
        return ""
    if not referrer_host or referrer_host.lower() == host.lower():
        return ""
    return referrer


def is_base_url(value: object) -> bool:
    """True for an absolute http(s) URL without query or fragment, as the counter's address."""
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        # An unbalanced IPv6 bracket, say.
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.netloc)
        and not parts.query
        and not parts.fragment
    )


def stylesheet_url(page: Page | None, base_url: str | None = None) -> str:
    """The beacon URL, signed for ``page`` when one is given."""
    url = reverse("lambdactr:stylesheet")
    base_url = base_url if base_url is not None else conf.BASE_URL
    if base_url:
        url = base_url.rstrip("/") + url
    if page is not None:
        url += "?" + urlencode({TOKEN_PARAMETER: sign_page(page)})
    return url


def link_html(url: str, nonce: str | None = None) -> SafeString:
    if nonce:
        return format_html(
            '<link rel="stylesheet" href="{}" media="none" referrerpolicy="{}" nonce="{}">',
            url,
            REFERRER_POLICY,
            nonce,
        )
    return format_html(
        '<link rel="stylesheet" href="{}" media="none" referrerpolicy="{}">',
        url,
        REFERRER_POLICY,
    )
