from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import OperationalError, connection
from django.http import HttpResponse
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext, override_settings

from lambdactr_django.beacon import answers
from lambdactr_django.beacon.signing import sign_page
from lambdactr_django.hits import Hit, Page
from lambdactr_django.models import HeaderHit
from lambdactr_django.store import durable, replay, spool

pytestmark = pytest.mark.django_db

URL = "/ctr/s.css"
PAGE = "https://blog.example/posts/1/"


def assert_empty_stylesheet(response: HttpResponse) -> None:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/css"
    assert response.content == b""
    assert re.fullmatch(r'"[0-9a-f]{32}"', response["ETag"])
    assert response["Cache-Control"] == "no-cache, no-store, must-revalidate"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert not response.cookies
    assert "cookie" not in response.get("Vary", "").lower()


def only_hit() -> HeaderHit:
    # .get() also proves that exactly one row was stored.
    return HeaderHit.objects.get()


# The response


def test_get_answers_an_empty_stylesheet(client: Client) -> None:
    response = client.get(URL, headers={"referer": PAGE})

    assert_empty_stylesheet(response)


def test_etag_differs_between_responses(client: Client) -> None:
    first = client.get(URL, headers={"referer": PAGE})
    second = client.get(URL, headers={"referer": PAGE})

    assert first["ETag"] != second["ETag"]


def test_no_cookie_when_the_visitor_sends_cookies(client: Client) -> None:
    client.cookies["sessionid"] = "a" * 32
    client.cookies["csrftoken"] = "b" * 32

    response = client.get(URL, headers={"referer": PAGE})

    assert_empty_stylesheet(response)


def beacon_statements(queries: list[dict[str, Any]]) -> list[str]:
    """What the beacon asked of the database, by kind of statement."""
    kinds = []
    for query in queries:
        sql = query["sql"]
        if sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):
            continue  # the test's own transaction turns the beacon's into a savepoint
        if sql.startswith("SET LOCAL statement_timeout = "):
            # Sent in the same execute(), so in the same round trip.
            kinds.append("statement_timeout; " + sql.split("; ", 1)[1].split(" ", 1)[0])
        else:
            kinds.append(sql.split(" ", 1)[0])
    return kinds


# One INSERT, one round trip; on PostgreSQL the statement timeout goes with it.
EXPECTED_STATEMENTS = {
    "sqlite": ["INSERT"],
    "postgresql": ["statement_timeout; INSERT"],
}


def test_no_cookie_and_one_insert_when_logged_in(client: Client, django_user_model: type) -> None:
    client.force_login(django_user_model.objects.create_user("visitor"))

    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL, headers={"referer": PAGE})

    assert_empty_stylesheet(response)
    assert beacon_statements(captured.captured_queries) == EXPECTED_STATEMENTS[connection.vendor]
    assert HeaderHit.objects.count() == 1


def test_get_is_one_insert(client: Client) -> None:
    with CaptureQueriesContext(connection) as captured:
        client.get(URL, headers={"referer": PAGE})

    assert beacon_statements(captured.captured_queries) == EXPECTED_STATEMENTS[connection.vendor]
    assert HeaderHit.objects.count() == 1


def test_each_get_stores_one_hit(client: Client) -> None:
    for _ in range(3):
        client.get(URL, headers={"referer": PAGE})

    assert HeaderHit.objects.count() == 3


def test_get_stores_the_page_from_the_referer(client: Client) -> None:
    client.get(
        URL,
        headers={
            "referer": "https://blog.example/posts/1/?id=7&utm_source=feed#comments",
            "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0",
        },
    )

    hit = only_hit()
    assert hit.site == "blog.example"
    assert hit.path == "/posts/1/"
    # The Referer of an unsigned beacon is the page itself, not where the visitor came from.
    assert hit.referrer == ""
    assert hit.user_agent == "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"
    assert hit.verified is True
    assert hit.headers == {
        "Referer": "https://blog.example/posts/1/?utm_source=feed",
        "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0",
    }


def test_head_answers_like_get_and_stores_nothing(
    client: Client, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        response = client.head(URL, headers={"referer": PAGE})

    assert_empty_stylesheet(response)
    assert HeaderHit.objects.count() == 0


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_not_allowed_and_store_nothing(
    method: str, beacon_client: Callable[..., Client], django_assert_num_queries: Any
) -> None:
    # With CSRF checks on, as in a browser: the answer must still be 405, not 403.
    client = beacon_client(enforce_csrf_checks=True)

    with django_assert_num_queries(0):
        response = client.generic(method, URL, headers={"referer": PAGE})

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert HeaderHit.objects.count() == 0


# Failures are logged and answered like a success


def _raise(*args: object, **kwargs: object) -> Hit:
    raise RuntimeError("capture exploded")


def test_capture_failure_is_logged_and_answered_as_success(
    client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(answers, "capture", _raise)

    with caplog.at_level(logging.ERROR, logger="lambdactr_django.beacon.views"):
        response = client.get(URL, headers={"referer": PAGE})

    assert_empty_stylesheet(response)
    assert HeaderHit.objects.count() == 0
    [record] = caplog.records
    assert record.getMessage() == "lambdactr: could not store a hit"
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "capture exploded"


def test_storage_failure_is_logged_and_answered_as_success(
    client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(durable, "save", _raise)

    with caplog.at_level(logging.ERROR, logger="lambdactr_django.beacon.views"):
        response = client.get(URL, headers={"referer": PAGE})

    assert_empty_stylesheet(response)
    assert HeaderHit.objects.count() == 0
    [record] = caplog.records
    assert record.getMessage() == "lambdactr: could not store a hit"


# The view runs in autocommit, as in production: it opts out of ATOMIC_REQUESTS.
@pytest.mark.django_db(transaction=True)
def test_database_outage_is_spooled_and_answered_as_success(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    def database_down(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        if "INSERT INTO" in sql:
            raise OperationalError("could not connect to server")
        return execute(sql, params, many, context)

    with (
        caplog.at_level(logging.ERROR, logger="lambdactr_django.beacon.views"),
        connection.execute_wrapper(database_down),
    ):
        response = client.get(URL, headers={"referer": PAGE})

    assert_empty_stylesheet(response)
    assert HeaderHit.objects.count() == 0
    # Not an error: the hit waits in the spool for the database to come back.
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert spool.has_spooled_hits()

    assert replay.replay().stored == 1
    assert HeaderHit.objects.count() == 1


# Signed links


def _tag_href(page_url: str, referer: str | None = None) -> str:
    parts = urlsplit(page_url)
    headers = {"referer": referer} if referer else {}
    request = RequestFactory().get(parts.path, headers=headers, HTTP_HOST=parts.netloc)
    html = Template("{% load lambdactr %}{% tracking_link %}").render(Context({"request": request}))
    match = re.search(r'href="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def _token(href: str) -> str:
    return parse_qs(urlsplit(href).query)["t"][0]


def test_link_rendered_by_the_tag_names_its_page(client: Client) -> None:
    href = _tag_href(PAGE, referer="https://news.example/item?id=1&utm_source=hn")

    # The browser sends the page as Referer; the token is what counts.
    response = client.get(href, headers={"referer": "https://other.example/elsewhere/"})

    assert_empty_stylesheet(response)
    hit = only_hit()
    assert hit.site == "blog.example"
    assert hit.path == "/posts/1/"
    assert hit.referrer == "https://news.example/item?utm_source=hn"
    assert hit.verified is True


@override_settings(LAMBDACTR_REQUIRE_SIGNATURE=True)
def test_signed_link_is_verified_when_signatures_are_required(client: Client) -> None:
    client.get(_tag_href(PAGE), headers={"referer": PAGE})

    hit = only_hit()
    assert (hit.site, hit.path, hit.verified) == ("blog.example", "/posts/1/", True)


def _forged() -> str:
    with override_settings(SECRET_KEY="an attacker's guess"):
        return sign_page(Page("blog.example", "/forged/", "https://spam.example/"))


def _tampered() -> str:
    token = sign_page(Page("blog.example", "/posts/1/", ""))
    payload, rest = token.split(":", 1)
    return payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + ":" + rest


def _truncated() -> str:
    return sign_page(Page("blog.example", "/posts/1/", ""))[:-10]


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(_forged, id="forged"),
        pytest.param(_tampered, id="tampered"),
        pytest.param(_truncated, id="truncated"),
        pytest.param(lambda: "not-a-token", id="garbage"),
        pytest.param(lambda: "", id="empty"),
        pytest.param(lambda: "x" * 10_000, id="too-long"),
    ],
)
def test_bad_token_is_stored_unverified_with_the_page_from_the_referer(
    client: Client, token: Callable[[], str]
) -> None:
    response = client.get(URL, {"t": token()}, headers={"referer": "https://shop.example/cart/"})

    assert_empty_stylesheet(response)
    hit = only_hit()
    assert hit.site == "shop.example"
    assert hit.path == "/cart/"
    assert hit.referrer == ""
    assert hit.verified is False


@override_settings(LAMBDACTR_SITES=["shop.example"])
def test_no_token_falls_back_to_the_referer_and_is_verified(client: Client) -> None:
    client.get(URL, headers={"referer": "https://shop.example/cart/"})

    hit = only_hit()
    assert (hit.site, hit.path, hit.verified) == ("shop.example", "/cart/", True)


@override_settings(LAMBDACTR_REQUIRE_SIGNATURE=True)
def test_no_token_is_unverified_when_signatures_are_required(client: Client) -> None:
    client.get(URL, headers={"referer": "https://shop.example/cart/"})

    hit = only_hit()
    assert (hit.site, hit.path, hit.verified) == ("shop.example", "/cart/", False)


@override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=2)
def test_too_many_parameters_still_stores_an_unverified_hit(client: Client) -> None:
    token = _token(_tag_href("https://blog.example/signed/"))

    response = client.get(f"{URL}?a=1&b=2&c=3&t={token}", headers={"referer": PAGE})

    assert_empty_stylesheet(response)
    hit = only_hit()
    assert (hit.site, hit.path, hit.verified) == ("blog.example", "/posts/1/", False)


@override_settings(LAMBDACTR_BASE_URL="https://counter.example")
def test_absolute_link_from_the_tag_is_served_here(client: Client) -> None:
    href = _tag_href(PAGE)
    assert href.startswith("https://counter.example/ctr/s.css?t=")

    parts = urlsplit(href)
    client.get(f"{parts.path}?{parts.query}", HTTP_HOST=parts.netloc, secure=True)

    hit = only_hit()
    assert (hit.site, hit.path, hit.verified) == ("blog.example", "/posts/1/", True)
