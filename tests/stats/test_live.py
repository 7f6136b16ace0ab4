from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lambdactr_django.stats import live as live_module
from lambdactr_django.stats.live import live
from tests.hits import make_hit

pytestmark = pytest.mark.django_db


def _ago(minutes: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(minutes=minutes)


def test_people_s_views_of_the_last_half_hour_by_page() -> None:
    for minutes in (1, 5, 29):
        make_hit(when=_ago(minutes), path="/a/")
    make_hit(when=_ago(2), path="/b/")
    make_hit(when=_ago(2), path="/b/", site="other.example")
    # Not counted: too old, a bot, a prefetch, a visitor-day, a forged signature.
    make_hit(when=_ago(31), path="/old/")
    make_hit(when=_ago(1), path="/bot/", is_bot=True, bot_reason="crawler")
    make_hit(when=_ago(1), path="/pre/", prefetch="prefetch")
    make_hit(when=_ago(1), path="", kind="visitor")
    make_hit(when=_ago(1), path="/forged/", verified=False)

    now = live()
    assert (now.minutes, now.views, now.capped) == (30, 5, False)
    assert [(row.label, row.views, row.visitors) for row in now.pages] == [
        ("blog.example/a/", 3, None),
        ("blog.example/b/", 1, None),
        ("other.example/b/", 1, None),
    ]
    assert [row.label for row in live(site="other.example").pages] == ["other.example/b/"]


def test_one_bounded_query(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live_module, "MAX_LIVE_HITS", 3)
    for _ in range(5):
        make_hit(when=_ago(1))
    with CaptureQueriesContext(connection) as queries:
        now = live()
    assert (now.views, now.capped) == (3, True)
    assert len(queries) == 1
    sql = queries[0]["sql"]
    assert "LIMIT 4" in sql
    assert "created_at" in sql
