from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import Error, Warning, run_checks
from django.test.utils import override_settings
from django.urls import URLPattern

from lambdactr_django.checks import check_settings, check_urls

# A URLconf without the counter's URLs, for W001.
urlpatterns: list[URLPattern] = []


def ids(messages: list[Any]) -> list[str]:
    return [message.id for message in messages]


def test_defaults_pass() -> None:
    assert check_settings() == []
    assert check_urls() == []


@override_settings(
    LAMBDACTR_BASE_URL="https://counter.example",
    LAMBDACTR_STORE_CLIENT_IP=True,
    LAMBDACTR_REFERRER_QUERY_ALLOWLIST=[],
    LAMBDACTR_MAX_HEADERS=1,
    LAMBDACTR_MAX_HEADER_LENGTH=1,
    # Not a header the bot rules read: redacting one of those is valid but warns (W002).
    LAMBDACTR_REDACTED_HEADERS=("Sec-CH-UA-Platform",),
    LAMBDACTR_REQUIRE_SIGNATURE=True,
    LAMBDACTR_DAILY_VISITORS=False,
    LAMBDACTR_TIME_ZONE="Europe/Paris",
    LAMBDACTR_PRIVACY_SIGNALS="honour",
    LAMBDACTR_RETENTION_DAYS=30,
)
def test_valid_settings_pass() -> None:
    assert check_settings() == []


@pytest.mark.parametrize(
    "value", [None, "https://counter.example", "http://localhost:8000/", "https://x.example/ctr"]
)
def test_e001_accepts(value: str | None) -> None:
    with override_settings(LAMBDACTR_BASE_URL=value):
        assert check_settings() == []


@pytest.mark.parametrize(
    "value",
    [
        "counter.example",
        "/ctr/",
        "ftp://counter.example",
        "https://",
        "https://counter.example/?a=1",
        "https://counter.example/#top",
        "https://[::1",
        "",
        42,
    ],
)
def test_e001_base_url(value: object) -> None:
    with override_settings(LAMBDACTR_BASE_URL=value):
        messages = check_settings()

    assert messages == [
        Error(
            "LAMBDACTR_BASE_URL should be None or an absolute http(s) URL "
            f"without query or fragment, not {value!r}.",
            id="lambdactr_django.E001",
        )
    ]


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_e002_store_client_ip(value: object) -> None:
    with override_settings(LAMBDACTR_STORE_CLIENT_IP=value):
        messages = check_settings()

    assert messages == [
        Error(
            f"LAMBDACTR_STORE_CLIENT_IP should be True or False, not {value!r}.",
            id="lambdactr_django.E002",
        )
    ]


@pytest.mark.parametrize("value", ["utm_*", ["utm_*", 3], None])
def test_e003_referrer_query_allowlist(value: object) -> None:
    with override_settings(LAMBDACTR_REFERRER_QUERY_ALLOWLIST=value):
        messages = check_settings()

    assert messages == [
        Error(
            f"LAMBDACTR_REFERRER_QUERY_ALLOWLIST should be a list of strings, not {value!r}.",
            id="lambdactr_django.E003",
        )
    ]


@pytest.mark.parametrize("value", [0, -1, True, "50", 2.5])
def test_e004_max_headers(value: object) -> None:
    with override_settings(LAMBDACTR_MAX_HEADERS=value):
        messages = check_settings()

    assert messages == [
        Error(
            f"LAMBDACTR_MAX_HEADERS should be a positive integer, not {value!r}.",
            id="lambdactr_django.E004",
        )
    ]


@pytest.mark.parametrize("value", [0, -1, False, "1024", None])
def test_e005_max_header_length(value: object) -> None:
    with override_settings(LAMBDACTR_MAX_HEADER_LENGTH=value):
        messages = check_settings()

    assert messages == [
        Error(
            f"LAMBDACTR_MAX_HEADER_LENGTH should be a positive integer, not {value!r}.",
            id="lambdactr_django.E005",
        )
    ]


@pytest.mark.parametrize("value", ["User-Agent", [b"User-Agent"], {"a": 1}])
def test_e006_redacted_headers(value: object) -> None:
    with override_settings(LAMBDACTR_REDACTED_HEADERS=value):
        messages = check_settings()

    assert messages == [
        Error(
            f"LAMBDACTR_REDACTED_HEADERS should be a list of strings, not {value!r}.",
            id="lambdactr_django.E006",
        )
    ]


@pytest.mark.parametrize("value", ["False", 0, None])
def test_e007_require_signature(value: object) -> None:
    with override_settings(LAMBDACTR_REQUIRE_SIGNATURE=value):
        messages = check_settings()

    assert messages == [
        Error(
            f"LAMBDACTR_REQUIRE_SIGNATURE should be True or False, not {value!r}.",
            id="lambdactr_django.E007",
        )
    ]


@override_settings(LAMBDACTR_MAX_HEADERS=0, LAMBDACTR_REQUIRE_SIGNATURE="no")
def test_every_bad_setting_is_reported() -> None:
    assert ids(check_settings()) == ["lambdactr_django.E004", "lambdactr_django.E007"]


@override_settings(ROOT_URLCONF=__name__)
def test_w001_urls_not_included() -> None:
    assert check_urls() == [
        Warning(
            "lambdactr_django is installed but its URLs are not included.",
            hint='Add path("ctr/", include("lambdactr_django.urls")) to your URLconf, '
            "or set LAMBDACTR_BASE_URL to the deployment that serves them.",
            id="lambdactr_django.W001",
        )
    ]


@override_settings(ROOT_URLCONF=__name__, LAMBDACTR_BASE_URL="https://counter.example")
def test_w001_silent_when_another_deployment_serves_the_urls() -> None:
    assert check_urls() == []


@override_settings(ROOT_URLCONF=__name__, LAMBDACTR_MAX_HEADERS=0)
def test_checks_are_registered() -> None:
    found = ids(run_checks(databases=[]))

    assert "lambdactr_django.E004" in found
    assert "lambdactr_django.W001" in found


FAST_PATH = "lambdactr_django.beacon.fastpath.BeaconFastPathMiddleware"


@pytest.mark.parametrize(
    "middleware",
    [
        [FAST_PATH, "django.middleware.common.CommonMiddleware"],
        ["django.middleware.common.CommonMiddleware"],
        [],
    ],
)
def test_w003_accepts(middleware: list[str]) -> None:
    with override_settings(MIDDLEWARE=middleware):
        assert check_settings() == []


def test_w003_the_fast_path_middleware_below_another() -> None:
    with override_settings(MIDDLEWARE=["django.middleware.common.CommonMiddleware", FAST_PATH]):
        assert ids(check_settings()) == ["lambdactr_django.W003"]
