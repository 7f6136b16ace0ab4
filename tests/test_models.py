from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest
from django.db import connection

from lambdactr_django.hits import COLUMNS, HIT_FIELDS, Hit
from lambdactr_django.models import HeaderHit
from lambdactr_django.store import durable

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2024, 3, 10, 12, 0, 5, tzinfo=dt.UTC)


def test_str_names_the_page_and_time() -> None:
    hit = HeaderHit(site="blog.example", path="/posts/1/", created_at=NOON)

    assert str(hit) == "blog.example/posts/1/ at 2024-03-10 12:00:05"


def test_the_hit_record_names_every_column_once() -> None:
    # One list of columns: the export, the journal and the seed all use it.
    columns = [field.attname for field in HeaderHit._meta.concrete_fields]
    assert sorted(COLUMNS) == sorted(columns)
    assert len(set(COLUMNS)) == len(COLUMNS)
    assert COLUMNS[:2] == ("id", "created_at")


def test_a_hit_stores_every_field() -> None:
    headers = {"User-Agent": "Navigateur ☃", "Accept-Language": "fr-CH"}
    hit = Hit(
        site="blog.example",
        path="/café/",
        referrer="https://news.example/",
        user_agent="Navigateur ☃",
        verified=False,
        headers=headers,
    )

    durable.save(hit)

    stored = HeaderHit.objects.values(*HIT_FIELDS).get()
    assert stored == dataclasses.asdict(hit)


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


def test_named_indexes_exist_in_the_database() -> None:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, HeaderHit._meta.db_table)

    assert constraints["lambdactr_site_created_idx"]["columns"] == ["site", "created_at"]
    assert constraints["lambdactr_verified_idx"]["columns"] == ["verified", "created_at"]
    assert any(info["index"] and info["columns"] == ["created_at"] for info in constraints.values())
