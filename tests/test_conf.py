from __future__ import annotations

from django.test.utils import override_settings

from lambdactr_django.conf import conf


def test_defaults() -> None:
    assert conf.BASE_URL is None
    assert conf.STORE_CLIENT_IP is False
    assert list(conf.REFERRER_QUERY_ALLOWLIST) == ["utm_*"]
    assert conf.MAX_HEADERS == 50
    assert conf.MAX_HEADER_LENGTH == 1024
    assert list(conf.REDACTED_HEADERS) == []
    assert conf.REQUIRE_SIGNATURE is False


def test_settings_are_read_on_every_access() -> None:
    with override_settings(
        LAMBDACTR_BASE_URL="https://counter.example",
        LAMBDACTR_STORE_CLIENT_IP=True,
        LAMBDACTR_REFERRER_QUERY_ALLOWLIST=["ref"],
        LAMBDACTR_MAX_HEADERS=5,
        LAMBDACTR_MAX_HEADER_LENGTH=64,
        LAMBDACTR_REDACTED_HEADERS=["DNT"],
        LAMBDACTR_REQUIRE_SIGNATURE=True,
    ):
        assert conf.BASE_URL == "https://counter.example"
        assert conf.STORE_CLIENT_IP is True
        assert conf.REFERRER_QUERY_ALLOWLIST == ["ref"]
        assert conf.MAX_HEADERS == 5
        assert conf.MAX_HEADER_LENGTH == 64
        assert conf.REDACTED_HEADERS == ["DNT"]
        assert conf.REQUIRE_SIGNATURE is True

    assert conf.BASE_URL is None
    assert conf.MAX_HEADERS == 50
