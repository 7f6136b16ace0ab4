from __future__ import annotations

import logging
import time
import types
from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory, override_settings

from lambdactr_django.beacon import ratelimit
from lambdactr_django.eventcount import EventCount
from lambdactr_django.models import HeaderHit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _one_window(monkeypatch: pytest.MonkeyPatch) -> None:
    # The limit counts per minute: a slow run crossing a minute would start a new
    # count halfway through a test. Its requests all fall in this minute instead.
    now = time.time()
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: now))


@pytest.fixture
def beacon(client: Client) -> Callable[..., int]:
    def get(address: str = "203.0.113.41") -> int:
        return client.get("/ctr/s.css", REMOTE_ADDR=address).status_code

    return get


@override_settings(LAMBDACTR_RATE_LIMIT=5)
def test_hits_over_the_limit_get_the_same_answer_but_are_not_stored(
    caplog: pytest.LogCaptureFixture, beacon: Callable[..., int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A count of its own: the first refusal after a quiet spell is logged at once.
    monkeypatch.setattr(ratelimit, "refused", EventCount(ratelimit.refused.message))
    with caplog.at_level(logging.WARNING, logger="lambdactr_django"):
        statuses = [beacon() for _ in range(8)]

    assert statuses == [200] * 8
    assert HeaderHit.objects.count() == 5
    assert "rate limit refused 1 hits (1 since start)" in caplog.text


@override_settings(LAMBDACTR_RATE_LIMIT=2)
def test_the_limit_is_per_client(beacon: Callable[..., int]) -> None:
    for address in ("203.0.113.41", "198.51.100.7", "2001:db8::41"):
        for _ in range(3):
            beacon(address)

    assert HeaderHit.objects.count() == 6


@override_settings(LAMBDACTR_RATE_LIMIT=None)
def test_no_limit_when_set_to_none(beacon: Callable[..., int]) -> None:
    for _ in range(50):
        beacon()

    assert HeaderHit.objects.count() == 50


def test_the_default_limit_is_300_a_minute(beacon: Callable[..., int]) -> None:
    for _ in range(310):
        beacon()

    assert HeaderHit.objects.count() == 300


@override_settings(LAMBDACTR_RATE_LIMIT=3)
def test_the_cache_holds_a_salted_hash_not_the_address(beacon: Callable[..., int]) -> None:
    beacon("203.0.113.41")

    keys = list(cache._cache.keys())  # type: ignore[attr-defined]
    assert len(keys) == 1
    assert "203.0.113.41" not in keys[0]
    key = ratelimit.client_key(RequestFactory().get("/", REMOTE_ADDR="203.0.113.41"))
    assert key in keys[0]
    with override_settings(SECRET_KEY="another-secret"):
        other = ratelimit.client_key(RequestFactory().get("/", REMOTE_ADDR="203.0.113.41"))
    assert other != key


@override_settings(LAMBDACTR_RATE_LIMIT=1, LAMBDACTR_RATE_LIMIT_CACHE="missing")
def test_a_broken_cache_lets_hits_through(beacon: Callable[..., int]) -> None:
    beacon()
    beacon()

    assert HeaderHit.objects.count() == 2
