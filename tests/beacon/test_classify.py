from __future__ import annotations

import pytest

from lambdactr_django.beacon import classify
from tests.hits import CHROME, GOOGLEBOT, IMAGE_HEADERS, IPHONE, STYLESHEET_HEADERS

IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"


@pytest.mark.parametrize(
    ("user_agent", "browser", "os", "device"),
    [
        (CHROME, "Chrome", "Windows", "desktop"),
        (FIREFOX_LINUX, "Firefox", "Ubuntu", "desktop"),
        (IPHONE, "Mobile Safari", "iOS", "mobile"),
        (IPAD, "Mobile Safari", "iOS", "tablet"),
        (ANDROID_TABLET, "Chrome", "Android", "tablet"),
        (GOOGLEBOT, "Googlebot", "Other", "bot"),
        ("curl/8.5.0", "curl", "Other", "bot"),
        ("SomethingNobodyKnows/1.0", "Other", "Other", "other"),
    ],
)
def test_parse_agent(user_agent: str, browser: str, os: str, device: str) -> None:
    agent = classify.parse_agent(user_agent)
    assert (agent.browser, agent.os, agent.device) == (browser, os, device)


def test_parse_agent_is_cached() -> None:
    classify.parse_agent.cache_clear()
    classify.parse_agent(CHROME)
    classify.parse_agent(CHROME)
    assert classify.parse_agent.cache_info().hits == 1


def test_a_browser_loading_the_stylesheet_is_a_person() -> None:
    labels = classify.label(CHROME, STYLESHEET_HEADERS, "stylesheet")
    assert (labels.is_bot, labels.bot_reason, labels.prefetch) == (False, "", "")


def test_a_browser_loading_the_image_is_a_person() -> None:
    assert not classify.label(CHROME, IMAGE_HEADERS, "image").is_bot


@pytest.mark.parametrize(
    ("user_agent", "headers", "reason"),
    [
        ("", STYLESHEET_HEADERS, "no-ua"),
        ("   ", STYLESHEET_HEADERS, "no-ua"),
        (GOOGLEBOT, STYLESHEET_HEADERS, "crawler"),
        ("python-requests/2.32", {}, "crawler"),
        # The URL opened directly, as a page: a browser says so.
        (CHROME, {**STYLESHEET_HEADERS, "Sec-Fetch-Dest": "document"}, "fetch-dest"),
        # Fetch metadata without a destination.
        (
            CHROME,
            {k: v for k, v in STYLESHEET_HEADERS.items() if k != "Sec-Fetch-Dest"},
            "fetch-dest",
        ),
        (
            CHROME,
            {k: v for k, v in STYLESHEET_HEADERS.items() if k != "Accept-Language"},
            "no-lang",
        ),
    ],
)
def test_bot_reasons(user_agent: str, headers: dict[str, str], reason: str) -> None:
    labels = classify.label(user_agent, headers, "stylesheet")
    assert (labels.is_bot, labels.bot_reason) == (True, reason)


def test_the_image_is_held_to_its_own_destination() -> None:
    labels = classify.label(CHROME, STYLESHEET_HEADERS, "image")
    assert labels.bot_reason == "fetch-dest"


def test_no_fetch_metadata_is_no_evidence() -> None:
    # Older Safari and plain HTTP clients send none; other rules still apply.
    headers = {"User-Agent": CHROME, "Accept-Language": "fr"}
    assert not classify.label(CHROME, headers, "stylesheet").is_bot


def test_redacted_headers_turn_their_rules_off() -> None:
    headers = {"User-Agent": CHROME}
    redacted = frozenset({"accept-language", "sec-fetch-dest"})
    assert not classify.label(CHROME, headers, "stylesheet", redacted).is_bot


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Sec-Purpose": "prefetch"}, "prefetch"),
        ({"Sec-Purpose": "prefetch;prerender"}, "prerender"),
        ({"Purpose": "prefetch"}, "prefetch"),
        ({"X-Moz": "prefetch"}, "prefetch"),
        ({"X-Purpose": "preview"}, "prefetch"),
        ({}, ""),
    ],
)
def test_prefetch_kind(headers: dict[str, str], expected: str) -> None:
    assert classify.prefetch_kind(headers) == expected


def test_a_prefetch_is_labelled_apart_from_bots() -> None:
    labels = classify.label(CHROME, {**STYLESHEET_HEADERS, "Sec-Purpose": "prefetch"}, "stylesheet")
    assert (labels.is_bot, labels.prefetch) == (False, "prefetch")


@pytest.mark.parametrize(
    ("headers", "dnt", "gpc"),
    [
        ({"DNT": "1"}, True, False),
        ({"Sec-GPC": "1"}, False, True),
        ({"DNT": "0", "Sec-GPC": "0"}, False, False),
    ],
)
def test_privacy_signals(headers: dict[str, str], dnt: bool, gpc: bool) -> None:
    labels = classify.label(CHROME, {**STYLESHEET_HEADERS, **headers}, "stylesheet")
    assert (labels.dnt, labels.gpc) == (dnt, gpc)


@pytest.mark.parametrize(
    ("user_agent", "headers", "reason"),
    [
        # A log records neither Accept-Language nor Sec-Fetch-Dest: no rule of them.
        (CHROME, {"User-Agent": CHROME}, ""),
        (GOOGLEBOT, {"User-Agent": GOOGLEBOT}, "crawler"),
        # The log had a user agent field, and it was "-".
        ("", {"User-Agent": ""}, "no-ua"),
        # The log's format has none (Common Log Format): nothing is known.
        ("", {}, ""),
    ],
)
def test_a_logged_hit_is_judged_by_its_user_agent_alone(
    user_agent: str, headers: dict[str, str], reason: str
) -> None:
    labels = classify.label(user_agent, headers, classify.Resource.LOG)
    assert (labels.is_bot, labels.bot_reason) == (bool(reason), reason)
    # The same headers on a beacon hit: no Accept-Language makes a bot.
    if user_agent == CHROME:
        assert classify.label(user_agent, headers, classify.Resource.STYLESHEET).is_bot
