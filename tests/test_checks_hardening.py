from __future__ import annotations

import pytest

from tests.test_checks_reliability import ids


@pytest.mark.parametrize("value", [0, -1, "30", None, 601, True])
def test_e301_replay_timeout(value: object) -> None:
    assert ids(LAMBDACTR_REPLAY_TIMEOUT=value) == ["lambdactr_django.E301"]


@pytest.mark.parametrize("value", ["X-Custom", [1], None])
def test_e302_stored_headers(value: object) -> None:
    assert ids(LAMBDACTR_STORED_HEADERS=value) == ["lambdactr_django.E302"]


@pytest.mark.parametrize(
    "name", ["X-Client-IP", "X-Forwarded-Access-Token", "Cf-Access-Jwt-Assertion", "X-Api-Key"]
)
def test_w301_stored_headers_that_look_like_an_address_or_token(name: str) -> None:
    assert ids(LAMBDACTR_STORED_HEADERS=["X-Theme", name]) == ["lambdactr_django.W301"]


def test_stored_headers_that_reveal_nothing_pass() -> None:
    assert ids(LAMBDACTR_STORED_HEADERS=["X-Theme", "Viewport-Height"]) == []


@pytest.mark.parametrize("value", [0, -1, "50000", 2.5, True])
def test_e303_export_max_rows(value: object) -> None:
    assert ids(LAMBDACTR_EXPORT_MAX_ROWS=value) == ["lambdactr_django.E303"]


def test_w302_a_spool_dir_that_cannot_be_written() -> None:
    # Not even root can make a directory in /proc.
    assert ids(LAMBDACTR_SPOOL_DIR="/proc/lambdactr-spool") == ["lambdactr_django.W302"]


@pytest.mark.parametrize("value", ["127.0.0.1", ["not an address"], [""], [1]])
def test_e304_trusted_proxies(value: object) -> None:
    assert ids(LAMBDACTR_TRUSTED_PROXIES=value) == ["lambdactr_django.E304"]


def test_trusted_proxies_pass() -> None:
    assert ids(LAMBDACTR_TRUSTED_PROXIES=["127.0.0.1", "10.0.0.0/8", "fd00::/8"]) == []
