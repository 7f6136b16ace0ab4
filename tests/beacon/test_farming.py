"""Numbers nobody can farm with a replayed link (issue 11, finding 4)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.template import Context, Template
from django.test import Client, RequestFactory, override_settings

from lambdactr_django import stats
from lambdactr_django.beacon.signing import SIGNING_SALT, read_token, sign_page
from lambdactr_django.hits import Page
from lambdactr_django.middleware import VaryOnRefererMiddleware
from lambdactr_django.models import HeaderHit
from tests.test_checks_reliability import ids

SPAM = Page("blog.example", "/about/", "https://spam.example/casino?utm_source=FREE")


def test_a_token_naming_a_referrer_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = sign_page(SPAM)
    monkeypatch.setattr(signing.time, "time", lambda: 1_700_000_000)
    old = sign_page(SPAM)
    monkeypatch.undo()

    assert read_token(fresh) == SPAM
    assert read_token(old) is None


def test_a_token_without_a_referrer_never_expires_and_never_changes() -> None:
    # Static pages and lambdactr_snippet keep their links for years.
    page = Page("blog.example", "/about/", "")

    assert sign_page(page) == sign_page(page)
    assert read_token(sign_page(page)) == page


def test_a_timeless_token_naming_a_referrer_keeps_its_page_not_its_referrer() -> None:
    # What the tag made before tokens were dated, minted for replay.
    old = signing.Signer(salt=SIGNING_SALT).sign_object(
        [SPAM.site, SPAM.path, SPAM.referrer], compress=True
    )

    assert read_token(old) == Page(SPAM.site, SPAM.path, "")


@pytest.mark.django_db
def test_a_replayed_referrer_link_counts_a_bounded_number_of_times() -> None:
    url = f"/ctr/s.css?t={quote(sign_page(SPAM))}"
    for _ in range(20):
        browser = {
            "Accept-Language": "en",
            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0",
        }
        assert Client().get(url, headers=browser).status_code == 200

    assert HeaderHit.objects.count() == 20
    assert HeaderHit.objects.filter(verified=True).count() == 3
    report = stats.report_for(site="blog.example")
    assert [(row.label, row.views) for row in report.referrers] == [("spam.example", 3)]


def page_with_the_tag(request: HttpRequest) -> HttpResponse:
    html = Template("{% load lambdactr %}{% tracking_link %}").render(Context({"request": request}))
    return HttpResponse(html)


@override_settings(ALLOWED_HOSTS=["blog.example"])
def test_pages_with_the_tag_vary_on_referer() -> None:
    request = RequestFactory().get("/about/", HTTP_HOST="blog.example")

    response = VaryOnRefererMiddleware(page_with_the_tag)(request)

    assert "Referer" in response["Vary"]


def test_pages_without_the_tag_do_not_vary() -> None:
    request = RequestFactory().get("/about/")

    response = VaryOnRefererMiddleware(lambda r: HttpResponse("plain"))(request)

    assert not response.has_header("Vary")


@pytest.mark.parametrize("value", [0, -1, "3600", 1.5, True])
@pytest.mark.parametrize(
    ("setting", "check_id"),
    [
        ("LAMBDACTR_REFERRER_TOKEN_MAX_AGE", "lambdactr_django.E305"),
        ("LAMBDACTR_REFERRER_TOKEN_USES", "lambdactr_django.E306"),
    ],
)
def test_e305_e306_referrer_tokens(setting: str, check_id: str, value: object) -> None:
    assert ids(**{setting: value}) == [check_id]


@pytest.mark.django_db
@pytest.mark.parametrize("referer", ["https://competitor.example/", "https://blog.example.evil/"])
def test_a_hit_for_a_site_not_ours_is_kept_out_of_the_default_statistics(referer: str) -> None:
    Client().get("/ctr/s.css", headers={"Referer": referer})
    Client().get("/ctr/s.css", headers={"Referer": "https://blog.example/ours/"})

    stored = dict(HeaderHit.objects.values_list("site", "verified"))
    assert stored == {referer.split("/")[2]: False, "blog.example": True}


@pytest.mark.django_db
@override_settings(LAMBDACTR_SITES=[".example.org"])
def test_lambdactr_sites_names_the_sites_instead_of_allowed_hosts() -> None:
    Client().get("/ctr/s.css", headers={"Referer": "https://www.example.org/a/"})
    Client().get("/ctr/s.css", headers={"Referer": "https://blog.example/a/"})

    stored = dict(HeaderHit.objects.values_list("site", "verified"))
    assert stored == {"www.example.org": True, "blog.example": False}


@pytest.mark.parametrize("value", ["blog.example", [1]])
def test_e307_sites(value: object) -> None:
    assert ids(LAMBDACTR_SITES=value) == ["lambdactr_django.E307"]


@pytest.mark.django_db
def test_a_signed_hit_keeps_its_site_unless_lambdactr_sites_says_otherwise() -> None:
    # Signed where ALLOWED_HOSTS let the page through, perhaps another deployment.
    token = quote(sign_page(Page("shop.example", "/cart/", "")))
    Client().get(f"/ctr/s.css?t={token}")
    with override_settings(LAMBDACTR_SITES=["blog.example"]):
        Client().get(f"/ctr/s.css?t={token}")

    assert list(HeaderHit.objects.order_by("created_at").values_list("verified", flat=True)) == [
        True,
        False,
    ]
