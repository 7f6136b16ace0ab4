"""A view's channel, the landing page's campaign tags and the browser's language,
derived at capture; only these short values are stored."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory, override_settings

from lambdactr_django.beacon import sources
from lambdactr_django.beacon.capture import capture
from lambdactr_django.beacon.embed import stylesheet_url, visitor_day_url
from lambdactr_django.hits import MAX_UTM_LENGTH, Page
from lambdactr_django.models import HeaderHit
from tests.hits import STYLESHEET_HEADERS


def _request(url: str, **headers: str):
    return RequestFactory().get(url, headers={**STYLESHEET_HEADERS, **headers})


@pytest.mark.django_db
def test_the_landing_pages_utm_tags_are_kept_and_its_query_dropped(client: Client) -> None:
    landing = (
        "http://blog.example/?utm_source=Newsletter&utm_medium=email&utm_campaign=Spring+Sale&id=42"
    )
    response = client.get("/ctr/s.css", headers={**STYLESHEET_HEADERS, "Referer": landing})
    assert response.status_code == 200
    hit = HeaderHit.objects.get()
    assert (hit.path, hit.utm_source, hit.utm_medium, hit.utm_campaign, hit.channel) == (
        "/",
        "newsletter",
        "email",
        "spring sale",
        "email",
    )
    assert "42" not in hit.path + hit.referrer


@pytest.mark.django_db
def test_a_visit_keeps_its_entry_pages_tags(client: Client) -> None:
    landing = "http://blog.example/posts/1/?utm_campaign=launch"
    client.get("/ctr/d.css", headers={**STYLESHEET_HEADERS, "Referer": landing})
    hit = HeaderHit.objects.get()
    assert (hit.kind, hit.path, hit.utm_campaign, hit.channel) == (
        "visitor",
        "/posts/1/",
        "launch",
        "",
    )


def test_a_signed_views_tags_come_from_its_page_only() -> None:
    page = Page(site="blog.example", path="/posts/1/")
    tagged = "http://blog.example/posts/1/?utm_source=mastodon&utm_medium=social"
    hit = capture(_request(stylesheet_url(page), Referer=tagged))
    assert (hit.utm_source, hit.utm_medium, hit.channel) == ("mastodon", "social", "social")
    # Another site's URL cannot tag this site's view.
    forged = "http://spam.example/?utm_campaign=buy-now"
    assert capture(_request(stylesheet_url(page), Referer=forged)).utm_campaign == ""


@override_settings(LAMBDACTR_REFERRER_QUERY_ALLOWLIST=())
def test_tags_are_read_even_where_the_stored_referer_drops_them() -> None:
    hit = capture(_request("/ctr/s.css", Referer="http://blog.example/?utm_campaign=x"))
    assert hit.utm_campaign == "x"
    assert hit.headers["Referer"] == "http://blog.example/"


@override_settings(LAMBDACTR_REDACTED_HEADERS=["Referer"])
def test_no_tags_are_read_from_a_redacted_referer() -> None:
    hit = capture(_request("/ctr/d.css", Referer="http://blog.example/?utm_campaign=x"), "visitor")
    assert (hit.utm_campaign, hit.path) == ("", "")


def test_a_second_view_is_no_landing() -> None:
    url = visitor_day_url(None)
    hit = capture(_request(url, Referer="http://blog.example/?utm_campaign=x"), kind="second")
    assert (hit.kind, hit.utm_campaign, hit.channel) == ("second", "", "")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ("", "", "")),
        ("utm_source=a&UTM_MEDIUM=B&utm_campaign=%20two%20%20words%20", ("a", "b", "two words")),
        ("utm_source=first&utm_source=second", ("first", "", "")),
        ("utm_source=" + "x" * 500, ("x" * MAX_UTM_LENGTH, "", "")),
        ("utm_source=%00%1b%5Bbad", ("[bad", "", "")),
        ("utm_campaign=caf%C3%A9", ("", "", "café")),
        ("utm_term=kept-out&utm_content=too", ("", "", "")),
    ],
)
def test_campaign_tags_are_bounded_and_normalised(
    query: str, expected: tuple[str, str, str]
) -> None:
    assert tuple(sources.campaign_of(f"https://blog.example/?{query}")) == expected


@pytest.mark.parametrize(
    ("host", "medium", "channel"),
    [
        ("www.google.co.uk", "", "search"),
        ("duckduckgo.com", "", "search"),
        ("search.brave.com", "", "search"),
        ("l.facebook.com", "", "social"),
        ("news.ycombinator.com", "", "social"),
        ("bsky.app", "", "social"),
        ("mail.google.com", "", "email"),
        ("lobste.rs", "", "referral"),
        ("", "", ""),
        # The site owner's tag wins over the referrer.
        ("www.google.com", "cpc", "paid"),
        ("", "Newsletter", "email"),
        ("", "podcast", "campaign"),
    ],
)
def test_channels(host: str, medium: str, channel: str) -> None:
    campaign = sources.Campaign(medium=sources.normalised(medium))
    assert sources.channel_for(host, campaign) == channel


def test_a_campaign_without_medium_is_a_campaign() -> None:
    assert sources.channel_for("", sources.Campaign(source="partner")) == "campaign"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("en-US,en;q=0.9", "en-US"),
        ("de", "de"),
        ("fr-ch, fr;q=0.9, en;q=0.8", "fr-CH"),
        ("es-419", "es-419"),
        ("zh-Hant-TW", "zh-TW"),
        ("en;q=0.5, pt-BR", "pt-BR"),
        ("*", ""),
        ("", ""),
        ("123, x-klingon", ""),
        ("en-US," * 400, "en-US"),
    ],
)
def test_the_first_language_by_djangos_parser(header: str, language: str) -> None:
    assert sources.language_of(header) == language


def test_a_hit_stores_its_language() -> None:
    assert capture(_request("/ctr/s.css")).language == "en-GB"
    assert capture(_request("/ctr/s.css", **{"Accept-Language": "pt-br"})).language == "pt-BR"
