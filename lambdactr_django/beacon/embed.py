"""The HTML a page embeds to be counted: the ``<link>``s and the ``<img>``, for the
template tags and lambdactr_snippet."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from lambdactr_django.beacon.clean import clean_path, clean_referrer, clean_site
from lambdactr_django.beacon.signing import SITE_PARAMETER, TOKEN_PARAMETER, sign_page, sign_site
from lambdactr_django.conf import conf
from lambdactr_django.hits import Page

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
    return _url("lambdactr:stylesheet", base_url, _page_query(page))


def image_url(page: Page | None, base_url: str | None = None) -> str:
    """The image beacon's URL, signed for ``page`` when one is given."""
    return _url("lambdactr:image", base_url, _page_query(page))


def visitor_day_url(site: str | None, base_url: str | None = None) -> str:
    """The visitor link's URL: one per site, the same on every page, so it stays cached."""
    query = urlencode({SITE_PARAMETER: sign_site(site)}) if site else ""
    return _url("lambdactr:daily", base_url, query)


def _page_query(page: Page | None) -> str:
    return urlencode({TOKEN_PARAMETER: sign_page(page)}) if page is not None else ""


def _url(name: str, base_url: str | None, query: str) -> str:
    url = reverse(name)
    base_url = base_url if base_url is not None else conf.BASE_URL
    if base_url:
        url = base_url.rstrip("/") + url
    return f"{url}?{query}" if query else url


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


def links_html(
    page: Page | None, nonce: str | None = None, base_url: str | None = None
) -> SafeString:
    """The page-view link and, unless turned off, the visitor link."""
    view = link_html(stylesheet_url(page, base_url), nonce)
    if not conf.DAILY_VISITORS:
        return view
    return format_html(
        "{}\n{}", view, link_html(visitor_day_url(_visitor_site(page), base_url), nonce)
    )


def _visitor_site(page: Page | None) -> str | None:
    # One URL for the visitor link on every page of a site, signed or not: a
    # browser caches one copy per URL, so a site whose templated pages signed
    # it and whose static pages did not would count each browser twice a day.
    # Unsigned, the site comes from the request's Referer, and browsers keep a
    # cache per top-level site, so sites sharing a counter stay apart. Only when
    # every hit must be signed does the link name its site.
    if page is None or not conf.REQUIRE_SIGNATURE:
        return None
    return page.site


def image_html(url: str) -> SafeString:
    return format_html(
        '<img src="{}" alt="" width="1" height="1" referrerpolicy="{}">', url, REFERRER_POLICY
    )
