from __future__ import annotations

import datetime as dt
import io
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from lambdactr_django import stats
from lambdactr_django.beacon import capture
from lambdactr_django.beacon.clean import referrer_host
from lambdactr_django.hits import Kind, Resource
from lambdactr_django.models import HeaderHit
from lambdactr_django.store import database
from lambdactr_django.synthetic import mix
from lambdactr_django.synthetic.generator import Generator

pytestmark = pytest.mark.django_db

LABELS = ("browser", "os", "device", "is_bot", "bot_reason", "prefetch", "dnt", "gpc")


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("lambdactr_seed", *args, stdout=out)
    return out.getvalue()


def _seed(*args: str) -> str:
    return _run("--yes", "--hits", "2000", "--batch", "700", *args)


def _content() -> Counter[tuple[str, str, str, str]]:
    return Counter(HeaderHit.objects.values_list("kind", "site", "path", "user_agent"))


def test_creates_exactly_n_rows_views_and_visitors() -> None:
    before = timezone.now()
    out = _seed("--days", "30")
    assert HeaderHit.objects.count() == 2000
    # N counts both kinds; about one visitor-day per three page views.
    visitors = HeaderHit.objects.filter(kind=Kind.VISITOR_DAY).count()
    assert 350 < visitors < 650
    # A visitor-day's path is its visit's entry page; about 45% of visits have a second view.
    assert not HeaderHit.objects.filter(kind=Kind.VISITOR_DAY, path="").exists()
    seconds = HeaderHit.objects.filter(kind=Kind.SECOND_VIEW).count()
    assert 0.3 * visitors < seconds < 0.6 * visitors
    assert HeaderHit.objects.exclude(language="").exists()
    assert HeaderHit.objects.exclude(country="").exists()
    assert HeaderHit.objects.exclude(utm_campaign="").exists()
    assert set(HeaderHit.objects.values_list("channel", flat=True)) >= {"", "search", "social"}
    assert "Seeded 700 of 2,000 hits" in out
    assert "Seeded 2,000 hits" in out
    assert "rows/s" in out
    oldest = HeaderHit.objects.order_by("created_at").first()
    newest = HeaderHit.objects.order_by("-created_at").first()
    assert oldest is not None
    assert newest is not None
    assert oldest.created_at > before - dt.timedelta(days=30)
    assert newest.created_at <= timezone.now()
    # Spread over the window, not bunched on one day.
    assert HeaderHit.objects.dates("created_at", "day").count() > 25


def test_realistic_mix() -> None:
    _seed()
    hits = HeaderHit.objects
    assert hits.values("site").distinct().count() == 20
    assert hits.values("path").distinct().count() > 100
    assert hits.filter(is_bot=True).exists()
    assert hits.filter(prefetch__in=["prefetch", "prerender"]).exists()
    assert 0 < hits.exclude(referrer="").count() < hits.filter(kind=Kind.VIEW).count() / 2
    assert hits.values("user_agent").distinct().count() > 20
    hit = hits.filter(kind=Kind.VIEW, is_bot=False, resource=Resource.STYLESHEET).first()
    assert hit is not None
    assert hit.headers["User-Agent"] == hit.user_agent
    assert hit.headers["Accept"] == "text/css,*/*;q=0.1"
    assert hit.headers["Referer"] == f"https://{hit.site}{hit.path}"
    assert hit.headers["Accept-Language"]


def test_labels_are_what_capture_would_give() -> None:
    _seed("--sites", "5")
    for hit in HeaderHit.objects.order_by("user_agent", "id")[::7]:
        labels = capture.labels_for(hit.user_agent, hit.headers, hit.resource)
        assert {name: getattr(hit, name) for name in LABELS} == {
            name: getattr(labels, name) for name in LABELS
        }
        assert hit.referrer_host == referrer_host(hit.referrer)


def test_every_user_agent_is_labelled_as_its_client() -> None:
    from lambdactr_django.beacon import classify

    for _, client, _, user_agent in mix.USER_AGENTS:
        agent = classify.parse_agent(user_agent)
        assert agent.crawler == (client == mix.CRAWLER) or "Headless" in user_agent


def test_same_seed_same_hits_other_seed_other_hits() -> None:
    _seed("--seed", "7")
    first = _content()
    HeaderHit.objects.all().delete()
    _seed("--seed", "7", "--batch", "2000")
    assert _content() == first
    HeaderHit.objects.all().delete()
    _seed("--seed", "8")
    assert _content() != first


@override_settings(DEBUG=False)
def test_refuses_with_debug_off_unless_told_yes() -> None:
    with pytest.raises(CommandError, match="--yes"):
        _run("--hits", "10")
    assert HeaderHit.objects.count() == 0
    _run("--hits", "10", "--yes")
    assert HeaderHit.objects.count() == 10


@override_settings(DEBUG=True)
def test_runs_with_debug_on() -> None:
    _run("--hits", "10")
    assert HeaderHit.objects.count() == 10


def test_needs_a_number_of_hits() -> None:
    with pytest.raises(CommandError, match="--hits"):
        _run("--yes")
    with pytest.raises(CommandError, match="at least 1"):
        _run("--yes", "--hits", "0")


@override_settings(LAMBDACTR_PRIVACY_SIGNALS="honour")
def test_no_privacy_signals_where_capture_would_not_store_them() -> None:
    _seed()
    assert not HeaderHit.objects.filter(dnt=True).exists()
    assert not HeaderHit.objects.filter(gpc=True).exists()


def test_an_interruption_keeps_finished_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Generator.rows
    calls = 0

    def interrupt_third_batch(self, count):
        nonlocal calls
        calls += 1
        for number, row in enumerate(original(self, count)):
            if calls == 3 and number == 5:
                raise KeyboardInterrupt
            yield row

    monkeypatch.setattr(Generator, "rows", interrupt_third_batch)
    with pytest.raises(CommandError, match="Interrupted: 1,400 hits were seeded"):
        _seed()
    assert HeaderHit.objects.count() == 1400


def test_statistics_run_on_seeded_hits() -> None:
    _seed("--days", "10")
    today = timezone.localdate()
    start = today - dt.timedelta(days=10)
    report = stats.report(
        HeaderHit.objects.all(), traffic=stats.Traffic.ALL, start=start, end=today
    )
    # Views, visitor-days and second views (visits less bounces).
    assert report.views + report.visitors + report.visits - report.bounces == 2000
    assert report.views > report.visitors > 0
    assert len(report.days) == 11
    assert report.pages
    assert report.referrers
    assert report.browsers
    human = stats.report(HeaderHit.objects.all(), start=start, end=today)
    assert 0 < human.views < report.views


def test_uses_copy_on_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    used = []
    for name in ("_copy_rows", "_bulk_rows"):
        original = getattr(database, name)

        def spy(alias, rows, name=name, original=original):
            used.append(name)
            return original(alias, rows)

        monkeypatch.setattr(database, name, spy)
    _run("--yes", "--hits", "10")
    assert used == ["_copy_rows" if connection.vendor == "postgresql" else "_bulk_rows"]
    assert HeaderHit.objects.count() == 10


@pytest.mark.django_db(databases=["default", "counter"])
@override_settings(
    LAMBDACTR_DATABASE="counter", DATABASE_ROUTERS=["lambdactr_django.routers.CounterRouter"]
)
def test_writes_to_the_counters_database() -> None:
    _run("--yes", "--hits", "30")
    assert HeaderHit.objects.using("counter").count() == 30
    assert HeaderHit.objects.using("default").count() == 0
