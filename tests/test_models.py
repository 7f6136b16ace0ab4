from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection

from lambdactr_django.capture import Hit
from lambdactr_django.models import HeaderHit

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2024, 3, 10, 12, 0, 5, tzinfo=dt.UTC)


def test_str_names_the_page_and_time() -> None:
    hit = HeaderHit(site="blog.example", path="/posts/1/", created_at=NOON)

    assert str(hit) == "blog.example/posts/1/ at 2024-03-10 12:00:05"


def test_create_from_hit_stores_every_field() -> None:
    headers = {"User-Agent": "Navigateur ☃", "Accept-Language": "fr-CH"}
    hit = Hit(
        site="blog.example",
        path="/café/",
        referrer="https://news.example/",
        user_agent="Navigateur ☃",
        verified=False,
        headers=headers,
    )

    HeaderHit.objects.create_from_hit(hit)

    stored = HeaderHit.objects.get()
    assert stored.site == "blog.example"
    assert stored.path == "/café/"
    assert stored.referrer == "https://news.example/"
    assert stored.user_agent == "Navigateur ☃"
    assert stored.verified is False
    assert stored.headers == headers


def test_ids_are_server_made_uuid7s() -> None:
    first = HeaderHit.objects.create()
    second = HeaderHit.objects.create()

    assert isinstance(first.pk, uuid.UUID)
    assert first.pk.version == 7
    assert first.pk != second.pk


def test_newest_first() -> None:
    for days in (3, 1, 2):
        HeaderHit.objects.create(path=f"/{days}/", created_at=NOON - dt.timedelta(days=days))

    assert [hit.path for hit in HeaderHit.objects.all()] == ["/1/", "/2/", "/3/"]


def test_verified_queryset() -> None:
    HeaderHit.objects.create(path="/good/", verified=True)
    HeaderHit.objects.create(path="/forged/", verified=False)

    assert [hit.path for hit in HeaderHit.objects.verified()] == ["/good/"]


def test_with_external_referrer_queryset() -> None:
    HeaderHit.objects.create(path="/direct/", referrer="")
    HeaderHit.objects.create(path="/linked/", referrer="https://news.example/")

    assert [hit.path for hit in HeaderHit.objects.with_external_referrer()] == ["/linked/"]


def test_named_indexes_exist_in_the_database() -> None:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, HeaderHit._meta.db_table)

    assert constraints["lambdactr_site_created_idx"]["columns"] == ["site", "created_at"]
    assert constraints["lambdactr_verified_idx"]["columns"] == ["verified", "created_at"]
    assert any(info["index"] and info["columns"] == ["created_at"] for info in constraints.values())
