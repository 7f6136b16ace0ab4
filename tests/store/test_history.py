from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from lambdactr_django import store
from lambdactr_django.hits import Hit, Resource
from lambdactr_django.models import HeaderHit
from lambdactr_django.signals import hits_stored
from lambdactr_django.uuid7 import uuid7_of

pytestmark = pytest.mark.django_db

WHEN = dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC)


def _dated(n: int) -> store.Dated:
    hit = Hit(
        site="blog.example",
        path=f"/{n}/",
        referrer="",
        resource=Resource.LOG,
        verified=False,
        user_agent="Agent/1.0",
        headers={"User-Agent": "Agent/1.0", "Ünïcode": '"quoted" \\ \t'},
    )
    return store.Dated(uuid7_of(int(WHEN.timestamp() * 1000), n), WHEN, hit)


def test_stores_each_key_once_with_its_time_and_announces_the_batch() -> None:
    announced: list[list[dt.datetime]] = []

    def listen(sender: object, created_at: list[dt.datetime], **kwargs: Any) -> None:
        announced.append(list(created_at))

    hits_stored.connect(listen)
    try:
        assert store.save_dated([_dated(1), _dated(2)]) == 2
        assert store.save_dated([_dated(2), _dated(3)]) == 1
        # Nothing new: nothing to announce.
        assert store.save_dated([_dated(1), _dated(3)]) == 0
    finally:
        hits_stored.disconnect(listen)

    rows = {row.path: row for row in HeaderHit.objects.all()}
    assert sorted(rows) == ["/1/", "/2/", "/3/"]
    row = rows["/2/"]
    assert row.id == uuid.UUID(int=uuid7_of(int(WHEN.timestamp() * 1000), 2).int)
    assert row.created_at == WHEN
    assert row.headers == {"User-Agent": "Agent/1.0", "Ünïcode": '"quoted" \\ \t'}
    assert (row.resource, row.verified) == (Resource.LOG, False)
    assert announced == [[WHEN, WHEN], [WHEN, WHEN]]


def test_nothing_to_store() -> None:
    assert store.save_dated([]) == 0
