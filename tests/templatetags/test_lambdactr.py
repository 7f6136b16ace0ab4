from __future__ import annotations

import re
import time
from typing import Any
from unittest import mock
from urllib.parse import unquote, urlencode

import pytest
from django.http import HttpRequest
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import override_settings

from lambdactr_django.beacon.clean import page_from_url
from lambdactr_django.beacon.signing import read_site_token, read_token, sign_page, sign_site
from lambdactr_django.hits import Page

rf = RequestFactory()

# By default the tag prints the page-view link and, on the next line, the
# daily-visitor link; without a request neither is signed, and the visitor
# link is the same unsigned one either way (one browser, one visitor a day).
UNSIGNED = (
    '<link rel="stylesheet" href="/ctr/s.css" media="none" '
    'referrerpolicy="no-referrer-when-downgrade">\n'
    '<link rel="stylesheet" href="/ctr/d.css" media="none" '
    'referrerpolicy="no-referrer-when-downgrade">'
)
SIGNED = re.compile(
    r'<link rel="stylesheet" href="(?P<base>[^"?]*)/ctr/s\.css\?t=(?P<token>[A-Za-z0-9_.%-]+)" '
    r'media="none" referrerpolicy="no-referrer-when-downgrade"(?P<nonce>(?: nonce="[^"]*")?)>\n'
    r'<link rel="stylesheet" href="(?P=base)/ctr/d\.css" '
    r'media="none" referrerpolicy="no-referrer-when-downgrade"(?P=nonce)>'
)


def render(context: dict[str, Any]) -> str:
    return Template("{% load lambdactr %}{% tracking_link %}").render(Context(context))


def page_request(
    path: str = "/posts/1/", host: str = "blog.example", referer: str | None = None
) -> HttpRequest:
    headers = {"referer": referer} if referer is not None else {}
    return rf.get(path, headers=headers, HTTP_HOST=host)


def signed_page(html: str, base: str = "", nonce: str = "") -> Page:
    """The page the view link's token names; fails unless ``html`` is exactly the signed
    view link followed by the (unsigned) visitor link."""
    match = SIGNED.fullmatch(html)
    assert match is not None, html
    assert match["base"] == base
    assert match["nonce"] == nonce
    page = read_token(unquote(match["token"]))
    assert page is not None
    return page


def test_without_request_renders_the_unsigned_links() -> None:
    assert render({}) == UNSIGNED


def test_with_request_renders_a_link_signed_for_the_page() -> None:
    html = render({"request": page_request()})

    assert signed_page(html) == Page("blog.example", "/posts/1/", "")


def test_the_same_page_renders_the_same_link_at_another_time() -> None:
    first = render({"request": page_request()})
    with mock.patch("time.time", return_value=time.time() + 86400 * 400):
        later = render({"request": page_request()})

    assert later == first


def test_with_request_renders_exactly_the_links_for_the_page() -> None:
    token = sign_page(Page("blog.example", "/posts/1/", "https://news.example/"))

    html = render({"request": page_request(referer="https://news.example/")})

    assert html == (
        f'<link rel="stylesheet" href="/ctr/s.css?{urlencode({"t": token})}" media="none" '
        'referrerpolicy="no-referrer-when-downgrade">\n'
        '<link rel="stylesheet" href="/ctr/d.css" '
        'media="none" referrerpolicy="no-referrer-when-downgrade">'
    )


@override_settings(LAMBDACTR_REQUIRE_SIGNATURE=True)
def test_when_every_hit_must_be_signed_the_visitor_link_names_its_site() -> None:
    html = render({"request": page_request()})

    assert html.endswith(
        f'<link rel="stylesheet" href="/ctr/d.css?{urlencode({"s": sign_site("blog.example")})}" '
        'media="none" referrerpolicy="no-referrer-when-downgrade">'
    )
    assert read_site_token(sign_site("blog.example")) == "blog.example"


@override_settings(LAMBDACTR_DAILY_VISITORS=False)
def test_without_daily_visitors_renders_only_the_page_view_link() -> None:
    token = sign_page(Page("blog.example", "/posts/1/", ""))

    assert render({}) == (
        '<link rel="stylesheet" href="/ctr/s.css" media="none" '
        'referrerpolicy="no-referrer-when-downgrade">'
    )
    assert render({"request": page_request()}) == (
        f'<link rel="stylesheet" href="/ctr/s.css?{urlencode({"t": token})}" media="none" '
        'referrerpolicy="no-referrer-when-downgrade">'
    )


def test_signed_page_leaves_out_the_pages_query_string() -> None:
    html = render({"request": page_request("/search/?q=secret&page=2")})

    assert signed_page(html) == Page("blog.example", "/search/", "")


def test_signed_page_keeps_the_host_port() -> None:
    html = render({"request": page_request(host="localhost:8000")})

    assert signed_page(html) == Page("localhost:8000", "/posts/1/", "")


@override_settings(ALLOWED_HOSTS=["[::1]"])
def test_ipv6_host_is_signed_as_the_beacon_would_read_it_from_the_referer() -> None:
    html = render({"request": page_request(host="[::1]:8000")})

    assert signed_page(html) == page_from_url("http://[::1]:8000/posts/1/")
    assert signed_page(html) == Page("[::1]:8000", "/posts/1/", "")


def test_external_referrer_is_signed_without_query_except_utm() -> None:
    request = page_request(
        referer="https://alice:pw@news.example/item?id=42&utm_source=hn&utm_medium=x#comment"
    )

    page = signed_page(render({"request": request}))

    assert page == Page(
        "blog.example", "/posts/1/", "https://news.example/item?utm_source=hn&utm_medium=x"
    )


@pytest.mark.parametrize(
    "referer",
    [
        "https://blog.example/",
        "http://blog.example/other/?utm_source=x",
        "https://BLOG.EXAMPLE/other/",
        "",
        "not a url",
    ],
)
def test_internal_or_missing_referrer_is_not_signed(referer: str) -> None:
    page = signed_page(render({"request": page_request(referer=referer)}))

    assert page.referrer == ""


def test_referrer_from_the_same_host_on_another_port_is_external() -> None:
    page = signed_page(render({"request": page_request(referer="https://blog.example:8443/a/")}))

    assert page.referrer == "https://blog.example:8443/a/"


def test_disallowed_host_degrades_to_the_unsigned_links() -> None:
    assert render({"request": page_request(host="evil.example")}) == UNSIGNED


def test_request_that_is_not_a_request_is_ignored() -> None:
    assert render({"request": "not a request"}) == UNSIGNED


def test_csp_nonce_from_the_context() -> None:
    html = render({"csp_nonce": "r4nd0m"})

    assert html == (
        '<link rel="stylesheet" href="/ctr/s.css" media="none" '
        'referrerpolicy="no-referrer-when-downgrade" nonce="r4nd0m">\n'
        '<link rel="stylesheet" href="/ctr/d.css" media="none" '
        'referrerpolicy="no-referrer-when-downgrade" nonce="r4nd0m">'
    )


def test_csp_nonce_from_the_request() -> None:
    request = page_request()
    request.csp_nonce = "fr0m-request"  # type: ignore[attr-defined]

    page = signed_page(render({"request": request}), nonce=' nonce="fr0m-request"')

    assert page == Page("blog.example", "/posts/1/", "")


def test_csp_nonce_is_escaped() -> None:
    html = render({"csp_nonce": '"><script>alert(1)</script>'})

    escaped = "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
    assert html == (
        '<link rel="stylesheet" href="/ctr/s.css" media="none" '
        f'referrerpolicy="no-referrer-when-downgrade" nonce="{escaped}">\n'
        '<link rel="stylesheet" href="/ctr/d.css" media="none" '
        f'referrerpolicy="no-referrer-when-downgrade" nonce="{escaped}">'
    )


@override_settings(LAMBDACTR_BASE_URL="https://counter.example")
def test_base_url_makes_the_unsigned_link_absolute() -> None:
    assert render({}) == (
        '<link rel="stylesheet" href="https://counter.example/ctr/s.css" media="none" '
        'referrerpolicy="no-referrer-when-downgrade">\n'
        '<link rel="stylesheet" href="https://counter.example/ctr/d.css" media="none" '
        'referrerpolicy="no-referrer-when-downgrade">'
    )


@override_settings(LAMBDACTR_BASE_URL="https://counter.example/")
def test_base_url_makes_the_signed_link_absolute() -> None:
    page = signed_page(render({"request": page_request()}), base="https://counter.example")

    assert page == Page("blog.example", "/posts/1/", "")
