from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.core.checks import CheckMessage, Error, Warning
from django.urls import NoReverseMatch, reverse

from lambdactr_django.conf import conf
from lambdactr_django.links import is_base_url


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for check in _SETTING_CHECKS:
        errors.extend(check())
    return errors


def check_urls(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if conf.BASE_URL:
        # The beacon is served by another deployment; its URLs need not be here.
        return []
    try:
        reverse("lambdactr:stylesheet")
    except NoReverseMatch:
        return [
            Warning(
                "lambdactr_django is installed but its URLs are not included.",
                hint='Add path("ctr/", include("lambdactr_django.urls")) to your URLconf, '
                "or set LAMBDACTR_BASE_URL to the deployment that serves them.",
                id="lambdactr_django.W001",
            )
        ]
    return []


def _check_base_url() -> list[CheckMessage]:
    value = conf.BASE_URL
    if value is None or is_base_url(value):
        return []
    return [
        Error(
            "LAMBDACTR_BASE_URL should be None or an absolute http(s) URL "
            f"without query or fragment, not {value!r}.",
            id="lambdactr_django.E001",
        )
    ]


def _bool_check(name: str, check_id: str) -> Callable[[], list[CheckMessage]]:
    def check() -> list[CheckMessage]:
        value = getattr(conf, name)
        if isinstance(value, bool):
            return []
        return [Error(f"LAMBDACTR_{name} should be True or False, not {value!r}.", id=check_id)]

    return check


def _positive_int_check(name: str, check_id: str) -> Callable[[], list[CheckMessage]]:
    def check() -> list[CheckMessage]:
        value = getattr(conf, name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return []
        return [
            Error(f"LAMBDACTR_{name} should be a positive integer, not {value!r}.", id=check_id)
        ]

    return check


def _strings_check(name: str, check_id: str) -> Callable[[], list[CheckMessage]]:
    def check() -> list[CheckMessage]:
        value = getattr(conf, name)
        if (
            isinstance(value, Sequence)
            and not isinstance(value, str)
            and all(isinstance(v, str) for v in value)
        ):
            return []
        return [Error(f"LAMBDACTR_{name} should be a list of strings, not {value!r}.", id=check_id)]

    return check


# Ids are stable and never reused.
_SETTING_CHECKS: list[Callable[[], list[CheckMessage]]] = [
    _check_base_url,
    _bool_check("STORE_CLIENT_IP", "lambdactr_django.E002"),
    _strings_check("REFERRER_QUERY_ALLOWLIST", "lambdactr_django.E003"),
    _positive_int_check("MAX_HEADERS", "lambdactr_django.E004"),
    _positive_int_check("MAX_HEADER_LENGTH", "lambdactr_django.E005"),
    _strings_check("REDACTED_HEADERS", "lambdactr_django.E006"),
    _bool_check("REQUIRE_SIGNATURE", "lambdactr_django.E007"),
]
