"""Visits and bounces without an identifier: the visitor link's Last-Modified is the
site's midnight plus this browser's views today (1, then 2 = "two or more"), and the
If-Modified-Since it comes back with says which view this is (docs/visits.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client, override_settings
from django.utils.http import http_date

from lambdactr_django import days
from lambdactr_django.beacon.answers import views_seen
from lambdactr_django.models import HeaderHit
from tests.hits import STYLESHEET_HEADERS

pytestmark = pytest.mark.django_db


def _midnight() -> float:
    return days.start_of(days.today()).timestamp()


def _browse(client: Client, pages: list[str]) -> list[tuple[int, str]]:
    # As a browser does: each page sends back the Last-Modified it was given last.
    answers = []
    since = None
    for page in pages:
        headers = {**STYLESHEET_HEADERS, "Referer": f"http://blog.example{page}"}
        if since is not None:
            headers["If-Modified-Since"] = since
        response = client.get("/ctr/d.css", headers=headers)
        since = response["Last-Modified"]
        answers.append((response.status_code, since))
    return answers


def test_a_visit_stores_its_first_and_second_view_only(client: Client) -> None:
    answers = _browse(client, ["/", "/posts/1/", "/about/", "/"])
    midnight = _midnight()
    assert answers == [
        (200, http_date(midnight + 1)),
        (200, http_date(midnight + 2)),
        (304, http_date(midnight + 2)),
        (304, http_date(midnight + 2)),
    ]
    stored = HeaderHit.objects.order_by("created_at").values_list("kind", "site", "path")
    # The visitor-day's path is the visit's entry page.
    assert list(stored) == [
        ("visitor", "blog.example", "/"),
        ("second", "blog.example", "/posts/1/"),
    ]


def test_a_bounce_stores_the_visitor_day_alone(client: Client) -> None:
    assert [status for status, _ in _browse(client, ["/landing/"])] == [200]
    assert list(HeaderHit.objects.values_list("kind", "path")) == [("visitor", "/landing/")]


def test_every_browser_at_the_same_count_gets_the_same_date(beacon_client) -> None:
    first = _browse(beacon_client(), ["/", "/a/", "/b/"])
    second = _browse(beacon_client(), ["/x/", "/y/", "/z/"])
    assert first == second


def test_yesterdays_count_starts_a_new_visit(client: Client) -> None:
    yesterday = days.start_of(days.today() - dt.timedelta(days=1)).timestamp()
    response = client.get(
        "/ctr/d.css",
        headers={**STYLESHEET_HEADERS, "If-Modified-Since": http_date(yesterday + 2)},
    )
    assert response.status_code == 200
    assert response["Last-Modified"] == http_date(_midnight() + 1)
    assert list(HeaderHit.objects.values_list("kind", flat=True)) == ["visitor"]


def test_a_head_request_counts_nothing(client: Client) -> None:
    response = client.head("/ctr/d.css", headers=STYLESHEET_HEADERS)
    assert response.status_code == 200
    assert response["Last-Modified"] == http_date(_midnight() + 1)
    assert HeaderHit.objects.count() == 0


@override_settings(TIME_ZONE="Asia/Kolkata")
def test_the_count_starts_at_the_sites_midnight(client: Client) -> None:
    answers = _browse(client, ["/", "/a/"])
    assert answers[0][1] == http_date(days.start_of(days.today()).timestamp() + 1)
    assert dt.datetime.fromtimestamp(_midnight(), days.site_zone()).time() == dt.time(0)
    assert HeaderHit.objects.filter(kind="second").count() == 1


@pytest.mark.parametrize(
    ("offset", "seen"),
    [
        (None, 0),
        (-1, 0),
        (1, 1),
        (2, 2),
        # The day-long copy this replaced: its browser was counted today.
        (0, 2),
        # No date this counter sends: taken as "two or more", never a new visit.
        (3, 2),
        (86_000, 2),
    ],
)
def test_views_seen_from_the_date_sent_back(offset: int | None, seen: int) -> None:
    midnight = _midnight()
    header = "" if offset is None else http_date(midnight + offset)
    assert views_seen(header, midnight) == seen


def test_a_date_that_is_no_date_is_a_first_view() -> None:
    assert views_seen("yesterday, at noon", _midnight()) == 0
