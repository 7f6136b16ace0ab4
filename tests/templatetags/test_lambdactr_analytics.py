from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django.template import Context, Template
from django.test import RequestFactory, override_settings

from lambdactr_django.beacon.embed import visitor_day_url
from lambdactr_django.beacon.signing import read_site_token, read_token


def _render(source: str, **context: object) -> str:
    return Template("{% load lambdactr %}" + source).render(Context(context))


def _request(path: str = "/posts/1/", host: str = "blog.example"):
    return RequestFactory().get(path, HTTP_HOST=host)


def test_tracking_link_adds_the_visitor_link() -> None:
    html = _render("{% tracking_link %}", request=_request())
    view, visitor = html.split("\n")
    assert view.startswith('<link rel="stylesheet" href="/ctr/s.css?t=')
    assert visitor == (
        f'<link rel="stylesheet" href="{visitor_day_url(None)}" '
        'media="none" referrerpolicy="no-referrer-when-downgrade">'
    )


def test_the_visitor_link_is_the_same_signed_or_not() -> None:
    # One URL, so one cached copy, so one visitor a day per browser, whether the
    # page was rendered by the tag (signed) or pasted as a static snippet.
    first = _render("{% tracking_link %}", request=_request("/a/")).split("\n")[1]
    second = _render("{% tracking_link %}", request=_request("/b/")).split("\n")[1]
    unsigned = _render("{% tracking_link %}").split("\n")[1]
    assert first == second == unsigned


@override_settings(LAMBDACTR_REQUIRE_SIGNATURE=True)
def test_when_signatures_are_required_each_site_has_its_visitor_link() -> None:
    first = _render("{% tracking_link %}", request=_request("/a/")).split("\n")[1]
    second = _render("{% tracking_link %}", request=_request("/b/")).split("\n")[1]
    other = _render("{% tracking_link %}", request=_request("/a/", "shop.example")).split("\n")[1]
    token = parse_qs(urlsplit(first.split('"')[3].replace("&amp;", "&")).query)["s"][0]
    assert read_site_token(token) == "blog.example"
    assert first == second
    assert first != other


def test_the_visitor_link_carries_the_csp_nonce() -> None:
    html = _render("{% tracking_link %}", request=_request(), csp_nonce="abc")
    assert html.count('nonce="abc"') == 2


@override_settings(LAMBDACTR_DAILY_VISITORS=False)
def test_no_visitor_link_when_turned_off() -> None:
    html = _render("{% tracking_link %}", request=_request())
    assert "d.css" not in html
    assert html.count("<link") == 1


def test_tracking_pixel_for_the_page_being_rendered() -> None:
    html = _render("{% tracking_pixel %}", request=_request())
    src = html.split('"')[1].replace("&amp;", "&")
    assert src.startswith("http://blog.example/ctr/i.gif?t=")
    page = read_token(parse_qs(urlsplit(src).query)["t"][0])
    assert page is not None
    assert (page.site, page.path) == ("blog.example", "/posts/1/")
    assert html.endswith(
        '" alt="" width="1" height="1" referrerpolicy="no-referrer-when-downgrade">'
    )


def test_tracking_pixel_for_a_named_page() -> None:
    html = _render(
        '{% tracking_pixel "https://blog.example/posts/9/" %}', request=_request("/feed/")
    )
    src = html.split('"')[1].replace("&amp;", "&")
    page = read_token(parse_qs(urlsplit(src).query)["t"][0])
    assert page is not None
    assert page.path == "/posts/9/"


@override_settings(LAMBDACTR_BASE_URL="https://counter.example")
def test_tracking_pixel_on_the_counter_host() -> None:
    html = _render("{% tracking_pixel %}", request=_request())
    assert 'src="https://counter.example/ctr/i.gif?t=' in html


def test_tracking_pixel_without_request_is_unsigned() -> None:
    assert _render("{% tracking_pixel %}") == (
        '<img src="/ctr/i.gif" alt="" width="1" height="1" '
        'referrerpolicy="no-referrer-when-downgrade">'
    )
