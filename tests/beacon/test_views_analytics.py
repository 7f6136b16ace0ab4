from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import pytest
from django.db import DatabaseError, connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils.http import http_date

from lambdactr_django import days
from lambdactr_django.beacon.views import TRANSPARENT_GIF
from lambdactr_django.models import HeaderHit
from lambdactr_django.store import database
from tests.beacon.test_views import EXPECTED_STATEMENTS, beacon_statements
from tests.hits import IMAGE_HEADERS, STYLESHEET_HEADERS

pytestmark = pytest.mark.django_db


def _inserts(context: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in context.captured_queries if "INSERT INTO" in q["sql"]]


def test_the_visitor_link_stores_one_visitor_hit_with_one_insert(client: Client) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/ctr/d.css", headers=STYLESHEET_HEADERS)
    assert response.status_code == 200
    assert beacon_statements(queries.captured_queries) == EXPECTED_STATEMENTS[connection.vendor]
    assert list(HeaderHit.objects.values_list("kind", "site")) == [("visitor", "blog.example")]


def test_the_visitor_link_is_revalidated_on_every_page(client: Client) -> None:
    response = client.get("/ctr/d.css", headers=STYLESHEET_HEADERS)
    assert response["Cache-Control"] == "private, no-cache"
    assert response["Content-Type"] == "text/css"
    # The site's midnight and one second: one view so far today.
    assert response["Last-Modified"] == http_date(days.start_of(days.today()).timestamp() + 1)


def test_the_visitor_link_has_nothing_that_tells_browsers_apart(client: Client) -> None:
    first = client.get("/ctr/d.css", headers=STYLESHEET_HEADERS)
    second = client.get("/ctr/d.css", headers=STYLESHEET_HEADERS)
    assert "ETag" not in first
    assert not first.cookies
    assert first["Last-Modified"] == second["Last-Modified"]


def test_a_third_view_today_is_answered_304_and_not_counted(client: Client) -> None:
    since = http_date(days.start_of(days.today()).timestamp() + 2)
    response = client.get("/ctr/d.css", headers={**STYLESHEET_HEADERS, "If-Modified-Since": since})
    assert response.status_code == 304
    assert response["Cache-Control"] == "private, no-cache"
    assert response["Last-Modified"] == since
    assert HeaderHit.objects.count() == 0


def test_a_revalidation_of_yesterdays_copy_is_a_new_visitor_day(client: Client) -> None:
    yesterday = days.start_of(days.today() - dt.timedelta(days=1)).timestamp()
    response = client.get(
        "/ctr/d.css", headers={**STYLESHEET_HEADERS, "If-Modified-Since": http_date(yesterday)}
    )
    assert response.status_code == 200
    assert HeaderHit.objects.filter(kind="visitor").count() == 1


@override_settings(LAMBDACTR_DAILY_VISITORS=False)
def test_the_visitor_link_stores_nothing_when_turned_off(client: Client) -> None:
    response = client.get("/ctr/d.css", headers=STYLESHEET_HEADERS)
    assert response.status_code == 200
    assert HeaderHit.objects.count() == 0


def test_the_image_is_a_transparent_gif_and_one_view(client: Client) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/ctr/i.gif", headers=IMAGE_HEADERS)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response.content == TRANSPARENT_GIF
    assert TRANSPARENT_GIF.startswith(b"GIF89a\x01\x00\x01\x00")
    assert len(_inserts(queries)) == 1
    assert list(HeaderHit.objects.values_list("kind", "resource", "is_bot")) == [
        ("view", "image", False)
    ]


def test_the_image_has_the_stylesheets_headers_but_its_type(client: Client) -> None:
    image = client.get("/ctr/i.gif", headers=IMAGE_HEADERS)
    sheet = client.get("/ctr/s.css", headers=STYLESHEET_HEADERS)
    for name in ("Cache-Control", "Cross-Origin-Resource-Policy"):
        assert image[name] == sheet[name]
    assert image["ETag"] != sheet["ETag"]
    assert not image.cookies


def test_a_bot_view_is_stored_and_labelled(client: Client) -> None:
    client.get("/ctr/s.css", headers={**STYLESHEET_HEADERS, "Sec-Fetch-Dest": "document"})
    assert list(HeaderHit.objects.values_list("is_bot", "bot_reason")) == [(True, "fetch-dest")]


@override_settings(LAMBDACTR_PRIVACY_SIGNALS="honour")
@pytest.mark.parametrize("url", ["/ctr/s.css", "/ctr/d.css", "/ctr/i.gif"])
def test_honoured_signals_store_nothing_and_answer_the_same(client: Client, url: str) -> None:
    response = client.get(url, headers={**STYLESHEET_HEADERS, "Sec-GPC": "1"})
    assert response.status_code == 200
    assert HeaderHit.objects.count() == 0


def test_recorded_signals_are_stored(client: Client) -> None:
    client.get("/ctr/s.css", headers={**STYLESHEET_HEADERS, "DNT": "1"})
    assert list(HeaderHit.objects.values_list("dnt", "gpc")) == [(True, False)]


@pytest.mark.parametrize("url", ["/ctr/d.css", "/ctr/i.gif"])
def test_a_database_failure_never_reaches_the_browser(
    client: Client, url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise DatabaseError("a row the database refuses")

    monkeypatch.setattr(database, "insert_group", fail)
    with caplog.at_level(logging.ERROR, logger="lambdactr_django.beacon.views"):
        response = client.get(url, headers=STYLESHEET_HEADERS)
    assert response.status_code == 200
    # The insert was tried and failed: the error was logged, not shown.
    assert "could not store a hit" in caplog.text


@pytest.mark.parametrize("url", ["/ctr/d.css", "/ctr/i.gif"])
def test_head_answers_without_storing(client: Client, url: str) -> None:
    assert client.head(url).status_code == 200
    assert HeaderHit.objects.count() == 0


@pytest.mark.parametrize("url", ["/ctr/d.css", "/ctr/i.gif"])
def test_post_is_refused(beacon_client: Callable[..., Client], url: str) -> None:
    response = beacon_client(enforce_csrf_checks=True).post(url)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
