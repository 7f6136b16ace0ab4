from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import override_settings

from lambdactr_django.models import HeaderHit
from tests.hits import GOOGLEBOT, STYLESHEET_HEADERS, make_hit

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("lambdactr_reclassify", *args, stdout=out)
    return out.getvalue()


def test_relabels_from_the_stored_headers() -> None:
    # As a hit stored before the labels existed: only raw data.
    hit = make_hit(
        user_agent=GOOGLEBOT,
        headers={**STYLESHEET_HEADERS, "User-Agent": GOOGLEBOT, "DNT": "1"},
        referrer="https://news.example/a",
        browser="",
        os="",
        device="other",
    )
    out = _run()
    hit.refresh_from_db()
    assert (hit.browser, hit.device, hit.is_bot, hit.bot_reason, hit.dnt) == (
        "Googlebot",
        "bot",
        True,
        "crawler",
        True,
    )
    assert hit.referrer_host == "news.example"
    assert "1 hits checked, 1 relabelled" in out


def test_a_person_stays_a_person_and_nothing_is_written() -> None:
    make_hit(
        headers=STYLESHEET_HEADERS,
        browser="Chrome",
        os="Windows",
        device="desktop",
        language="en-GB",
    )
    assert "1 hits checked, 0 relabelled" in _run()


def test_a_views_channel_and_language_are_recomputed() -> None:
    view = make_hit(
        headers=STYLESHEET_HEADERS,
        referrer="https://bsky.app/profile/x",
        referrer_host="bsky.app",
        utm_medium="",
    )
    tagged = make_hit(headers=STYLESHEET_HEADERS, utm_medium="newsletter", channel="referral")
    visit = make_hit(kind="visitor", headers=STYLESHEET_HEADERS, channel="search")
    _run()
    view.refresh_from_db()
    tagged.refresh_from_db()
    visit.refresh_from_db()
    assert (view.channel, view.language) == ("social", "en-GB")
    assert tagged.channel == "email"
    # Only a view has a channel.
    assert (visit.channel, visit.language) == ("", "en-GB")


def test_dry_run_changes_nothing() -> None:
    hit = make_hit(headers={}, browser="")
    assert "1 would change" in _run("--dry-run")
    hit.refresh_from_db()
    assert (hit.browser, hit.is_bot) == ("", False)


def test_works_through_batches() -> None:
    for _ in range(5):
        make_hit(headers={}, browser="")
    out = _run("--batch-size", "2")
    assert "Checked 2 of 5 hits" in out
    assert "5 hits checked, 5 relabelled" in out
    assert HeaderHit.objects.filter(bot_reason="no-lang").count() == 5


@override_settings(LAMBDACTR_REDACTED_HEADERS=["Accept-Language"])
def test_applies_the_current_settings() -> None:
    hit = make_hit(
        headers={"User-Agent": STYLESHEET_HEADERS["User-Agent"]}, is_bot=True, bot_reason="no-lang"
    )
    _run()
    hit.refresh_from_db()
    assert (hit.is_bot, hit.bot_reason) == (False, "")
