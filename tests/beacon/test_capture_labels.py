from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from lambdactr_django.beacon.capture import capture, should_store
from lambdactr_django.beacon.clean import referrer_host
from lambdactr_django.beacon.embed import stylesheet_url, visitor_day_url
from lambdactr_django.beacon.signing import read_site_token, sign_site
from lambdactr_django.hits import Page
from tests.hits import GOOGLEBOT, STYLESHEET_HEADERS


def _request(url: str, **headers: str):
    return RequestFactory().get(url, headers={**STYLESHEET_HEADERS, **headers})


def test_a_view_carries_its_labels() -> None:
    hit = capture(_request("/ctr/s.css"))
    assert (hit.kind, hit.resource, hit.browser, hit.os, hit.device, hit.is_bot) == (
        "view",
        "stylesheet",
        "Chrome",
        "Windows",
        "desktop",
        False,
    )


def test_a_bot_is_labelled_not_dropped() -> None:
    hit = capture(_request("/ctr/s.css", **{"User-Agent": GOOGLEBOT}))
    assert (hit.is_bot, hit.bot_reason, hit.device, hit.path) == (
        True,
        "crawler",
        "bot",
        "/posts/1/",
    )


def test_the_referrer_host_is_kept_for_grouping() -> None:
    page = Page(site="blog.example", path="/", referrer="https://news.example:8443/item?id=1")
    hit = capture(_request(stylesheet_url(page)))
    assert hit.referrer_host == "news.example"


@pytest.mark.parametrize(
    ("referrer", "host"),
    [("", ""), ("https://Search.Example/q", "search.example"), ("http://[bad", "")],
)
def test_referrer_host(referrer: str, host: str) -> None:
    assert referrer_host(referrer) == host


def test_a_visitor_hit_names_its_signed_site_and_its_entry_page() -> None:
    hit = capture(_request(visitor_day_url("blog.example")), kind="visitor")
    assert (hit.kind, hit.site, hit.path, hit.referrer, hit.verified) == (
        "visitor",
        "blog.example",
        "/posts/1/",
        "",
        True,
    )


def test_a_visitor_hit_of_another_sites_page_has_no_entry_page() -> None:
    hit = capture(
        _request(visitor_day_url("blog.example"), Referer="http://shop.example/cart/"),
        kind="visitor",
    )
    assert (hit.site, hit.path) == ("blog.example", "")


@override_settings(LAMBDACTR_SITES=["shop.example"])
def test_a_visitor_hit_without_token_takes_the_site_from_referer() -> None:
    hit = capture(
        _request(visitor_day_url(None), Referer="http://shop.example/cart/"), kind="visitor"
    )
    assert (hit.site, hit.path, hit.verified) == ("shop.example", "/cart/", True)


def test_a_forged_site_token_is_not_verified() -> None:
    hit = capture(_request("/ctr/d.css?s=blog.example:forged"), kind="visitor")
    assert (hit.site, hit.verified) == ("blog.example", False)


def test_the_site_token_is_stable_so_the_url_can_be_cached() -> None:
    assert sign_site("blog.example") == sign_site("blog.example")
    assert read_site_token(sign_site("Blog.Example")) == "blog.example"


def test_an_image_hit_is_a_view_loaded_as_image() -> None:
    hit = capture(_request("/ctr/i.gif", **{"Sec-Fetch-Dest": "image"}), resource="image")
    assert (hit.kind, hit.resource, hit.is_bot) == ("view", "image", False)


def test_privacy_signals_are_recorded_by_default() -> None:
    hit = capture(_request("/ctr/s.css", DNT="1", **{"Sec-GPC": "1"}))
    assert (hit.dnt, hit.gpc, should_store(hit)) == (True, True, True)


@override_settings(LAMBDACTR_PRIVACY_SIGNALS="honour")
@pytest.mark.parametrize("header", ["DNT", "Sec-GPC"])
def test_privacy_signals_honoured(header: str) -> None:
    assert not should_store(capture(_request("/ctr/s.css", **{header: "1"})))


@override_settings(LAMBDACTR_PRIVACY_SIGNALS="honour")
def test_honouring_keeps_hits_without_signals() -> None:
    assert should_store(capture(_request("/ctr/s.css")))


@override_settings(LAMBDACTR_REDACTED_HEADERS=["Accept-Language"])
def test_a_redacted_header_does_not_make_everyone_a_bot() -> None:
    hit = capture(_request("/ctr/s.css"))
    assert "Accept-Language" not in hit.headers
    assert not hit.is_bot
