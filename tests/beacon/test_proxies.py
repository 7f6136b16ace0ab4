"""The rate limit's client address behind trusted proxies, never stored (issue 11, finding 5)."""

from __future__ import annotations

import logging

import pytest
from django.test import RequestFactory, override_settings

from lambdactr_django.beacon import ratelimit
from lambdactr_django.beacon.capture import capture

rf = RequestFactory()
PROXY = "10.0.0.5"


def through_proxy(forwarded: str, remote: str = PROXY) -> object:
    return rf.get("/ctr/s.css", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=remote)


def test_by_default_the_direct_peer_is_the_client(caplog: pytest.LogCaptureFixture) -> None:
    ratelimit._warned = False
    with caplog.at_level(logging.WARNING, logger="lambdactr_django"):
        assert ratelimit.client_address(through_proxy("198.51.100.7")) == PROXY
        assert ratelimit.client_address(through_proxy("198.51.100.8")) == PROXY

    # Said once, not per request.
    assert caplog.text.count("LAMBDACTR_TRUSTED_PROXIES is empty") == 1


@override_settings(LAMBDACTR_TRUSTED_PROXIES=[PROXY])
def test_behind_a_trusted_proxy_each_client_counts_on_its_own() -> None:
    assert ratelimit.client_address(through_proxy("198.51.100.7")) == "198.51.100.7"
    assert ratelimit.client_address(through_proxy("198.51.100.8")) == "198.51.100.8"
    assert ratelimit.client_key(through_proxy("198.51.100.7")) != ratelimit.client_key(
        through_proxy("198.51.100.8")
    )


@override_settings(LAMBDACTR_TRUSTED_PROXIES=[PROXY])
def test_an_address_a_client_forges_in_front_of_the_chain_is_ignored() -> None:
    # The proxy appends the address it saw; what came before is the client's word.
    forged = through_proxy("203.0.113.66, 198.51.100.7")

    assert ratelimit.client_address(forged) == "198.51.100.7"


@override_settings(LAMBDACTR_TRUSTED_PROXIES=[PROXY])
def test_a_client_going_around_the_proxy_is_its_own_address() -> None:
    direct = through_proxy("198.51.100.7", remote="192.0.2.99")

    assert ratelimit.client_address(direct) == "192.0.2.99"


@override_settings(LAMBDACTR_TRUSTED_PROXIES=["192.0.2.0/24", "10.0.0.0/8"])
def test_two_proxies_outermost_first() -> None:
    request = through_proxy("203.0.113.66, 198.51.100.7, 192.0.2.10")

    assert ratelimit.client_address(request) == "198.51.100.7"


@override_settings(LAMBDACTR_TRUSTED_PROXIES=[PROXY])
def test_the_forwarded_address_is_never_stored() -> None:
    hit = capture(through_proxy("198.51.100.7"))

    assert "198.51.100.7" not in repr(hit)
