"""Nothing silently hidden: the list and the statistics say what their defaults leave out."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from lambdactr_django.models import HeaderHit
from lambdactr_django.stats.counting import hidden
from tests.hits import make_hit

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:lambdactr_django_headerhit_changelist")
STATISTICS = reverse("admin:lambdactr_django_headerhit_statistics")


def _traffic() -> None:
    make_hit(path="/person/")
    make_hit(path="/person-2/")
    make_hit(path="/bot/", is_bot=True, bot_reason="crawler", device="bot")
    make_hit(path="/bot-2/", is_bot=True, bot_reason="no-lang")
    make_hit(path="/prefetch/", prefetch="prefetch")
    make_hit(path="/forged/", verified=False)
    # Hidden twice over: counted once, as forged.
    make_hit(path="/forged-bot/", verified=False, is_bot=True, bot_reason="crawler")


def _note(response) -> str:
    match = re.search(r'<p class="lambdactr-hidden">(.*?)</p>', response.content.decode(), re.S)
    assert match is not None
    return match.group(1)


def _show_all(note: str) -> str:
    match = re.search(r'<a href="([^"]+)">', note)
    assert match is not None
    return html.unescape(match.group(1))


def test_every_hit_is_counted_once_by_why_it_is_hidden() -> None:
    _traffic()
    parts = hidden(HeaderHit.objects.all(), "human", True)
    assert [(part.what, part.count, part.by) for part in parts] == [
        ("bots", 2, "traffic"),
        ("prefetches", 1, "traffic"),
        ("with a forged or broken signature or imported from an access log", 2, "signature"),
    ]
    assert sum(part.count for part in parts) == HeaderHit.objects.count() - 2


def test_the_hit_list_says_what_its_defaults_leave_out(admin_client: Client) -> None:
    _traffic()
    response = admin_client.get(CHANGELIST)
    note = _note(response)
    assert "Not shown: 2 bot hits (Traffic filter), 1 prefetch (Traffic filter) and 2 hits" in note
    assert (
        "with a forged or broken signature or imported from an access log (Signature filter)."
        in note
    )

    everything = admin_client.get(_show_all(note))
    assert {hit.path for hit in everything.context["cl"].result_list} == {
        hit.path for hit in HeaderHit.objects.all()
    }
    assert 'class="lambdactr-hidden"' not in everything.content.decode()


def test_the_note_keeps_the_other_filters(admin_client: Client) -> None:
    _traffic()
    make_hit(site="other.example", path="/other-bot/", is_bot=True, bot_reason="crawler")
    note = _note(admin_client.get(CHANGELIST, {"site": "other.example"}))
    assert note.startswith("Not shown: 1 bot hit (Traffic filter).")
    assert "site=other.example" in _show_all(note)


def test_a_searched_note_keeps_the_site(admin_client: Client) -> None:
    # Counted from the hits the list's filters select (the rollups hold no searches).
    _traffic()
    make_hit(site="other.example", path="/other-bot/", is_bot=True, bot_reason="crawler")
    note = _note(admin_client.get(CHANGELIST, {"site": "other.example", "q": "bot"}))
    assert note.startswith("Not shown: 1 bot hit (Traffic filter).")


def test_no_note_when_nothing_is_left_out(admin_client: Client) -> None:
    make_hit(path="/person/")
    assert 'class="lambdactr-hidden"' not in admin_client.get(CHANGELIST).content.decode()


def test_the_search_box_show_all_shows_every_hit(admin_client: Client) -> None:
    _traffic()
    page = admin_client.get(CHANGELIST, {"q": "person"}).content.decode()
    assert '(<a href="?traffic=all&amp;verified=all">Show all</a>)' in page


def test_the_statistics_say_what_they_do_not_count(admin_client: Client) -> None:
    _traffic()
    response = admin_client.get(STATISTICS)
    note = _note(response)
    assert "Not shown: 2 bot hits (Traffic filter), 1 prefetch (Traffic filter)" in note
    assert "2 hits with a forged or broken signature or imported from an access log" in note
    counted = admin_client.get(_show_all(note))
    assert counted.context["report"].hits == HeaderHit.objects.count()


def test_large_counts_of_what_is_left_out_are_estimates(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connection

    from lambdactr_django.stats import counting

    if connection.vendor != "postgresql":
        pytest.skip("estimates come from PostgreSQL's planner")
    _traffic()
    # As if every part were many: the planner's estimate, said as "about", for a
    # search (which the rollups cannot answer).
    monkeypatch.setattr(counting, "HIDDEN_EXACT_BELOW", 0)
    note = _note(admin_client.get(CHANGELIST, {"q": "/"}))
    assert note.startswith("Not shown: about ")


def test_the_lists_own_filters_count_what_is_left_out_exactly_from_the_rollups(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lambdactr_django.stats import counting, rollups

    # Sealed days, and today's hits that are not rolled up yet.
    for days_ago in (0, 3):
        make_hit(days_ago=days_ago, path="/person/")
        make_hit(days_ago=days_ago, path="/bot/", is_bot=True, bot_reason="crawler")
        make_hit(days_ago=days_ago, path="/prefetch/", prefetch="prefetch", kind="visitor")
        make_hit(days_ago=days_ago, path="/forged/", verified=False)
    make_hit(site="other.example", days_ago=3, path="/other-bot/", is_bot=True)
    rollups.catch_up()
    # Where the raw hits would be estimated, the rollups' counts are exact.
    monkeypatch.setattr(counting, "HIDDEN_EXACT_BELOW", 0)
    note = _note(admin_client.get(CHANGELIST, {"site": "blog.example", "when": "30d"}))
    assert note.startswith(
        "Not shown: 2 bot hits (Traffic filter), 2 prefetches (Traffic filter) and 2 hits"
    )
    note = _note(admin_client.get(CHANGELIST, {"when": "today", "kind__exact": "visitor"}))
    assert note.startswith("Not shown: 1 prefetch (Traffic filter).")
