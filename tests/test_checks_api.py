"""The checks of the JSON statistics' and the e-mail digest's settings."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import Error
from django.test.utils import override_settings

from lambdactr_django.checks import check_settings


def ids(**settings: Any) -> list[str]:
    with override_settings(**settings):
        return [message.id for message in check_settings()]


@pytest.mark.parametrize("value", [None, 1, 600])
def test_e701_accepts(value: object) -> None:
    assert ids(LAMBDACTR_API_RATE_LIMIT=value) == []


@pytest.mark.parametrize("value", [0, -5, True, "60", 2.5])
def test_e701_api_rate_limit(value: object) -> None:
    with override_settings(LAMBDACTR_API_RATE_LIMIT=value):
        assert check_settings() == [
            Error(
                "LAMBDACTR_API_RATE_LIMIT should be None or a positive integer (requests per "
                f"minute and token), not {value!r}.",
                id="lambdactr_django.E701",
            )
        ]


def test_e702_api_rate_limit_cache_missing() -> None:
    assert ids(LAMBDACTR_RATE_LIMIT=None, LAMBDACTR_RATE_LIMIT_CACHE="nope") == [
        "lambdactr_django.E702"
    ]


def test_e702_not_checked_without_the_limit_or_twice() -> None:
    assert ids(LAMBDACTR_RATE_LIMIT=None, LAMBDACTR_API_RATE_LIMIT=None,
               LAMBDACTR_RATE_LIMIT_CACHE="nope") == []  # fmt: skip
    # The beacon's limit on: E105 says it.
    assert ids(LAMBDACTR_RATE_LIMIT_CACHE="nope") == ["lambdactr_django.E105"]


@pytest.mark.parametrize(
    "value", [None, "https://www.example.com", "http://localhost:8000/", "https://x.example/sub"]
)
def test_e703_accepts(value: str | None) -> None:
    assert ids(LAMBDACTR_SITE_URL=value) == []


@pytest.mark.parametrize(
    "value", ["www.example.com", "/admin/", "ftp://x.example", "https://x.example/?a=1", "", 3]
)
def test_e703_site_url(value: object) -> None:
    with override_settings(LAMBDACTR_SITE_URL=value):
        assert check_settings() == [
            Error(
                "LAMBDACTR_SITE_URL should be None or an absolute http(s) URL without query "
                f"or fragment, not {value!r}.",
                hint='The address the admin is reached at, such as "https://www.example.com".',
                id="lambdactr_django.E703",
            )
        ]
