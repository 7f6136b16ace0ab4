from __future__ import annotations

import zoneinfo
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


def _check_time_zone() -> list[CheckMessage]:
    value = conf.TIME_ZONE
    if value is None:
        return []
    if isinstance(value, str) and value:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
        else:
            return []
    return [
        Error(
            f"LAMBDACTR_TIME_ZONE should be None or an IANA time zone name, not {value!r}.",
            hint='For example "Europe/Paris"; None uses TIME_ZONE.',
            id="lambdactr_django.E009",
        )
    ]


PRIVACY_SIGNAL_MODES = ("record", "honour")


def _check_privacy_signals() -> list[CheckMessage]:
    value = conf.PRIVACY_SIGNALS
    if value in PRIVACY_SIGNAL_MODES:
        return []
    return [
        Error(
            f'LAMBDACTR_PRIVACY_SIGNALS should be "record" or "honour", not {value!r}.',
            id="lambdactr_django.E010",
        )
    ]


def _check_retention_days() -> list[CheckMessage]:
    value = conf.RETENTION_DAYS
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        return []
    return [
        Error(
            f"LAMBDACTR_RETENTION_DAYS should be None or a positive integer, not {value!r}.",
            id="lambdactr_django.E011",
        )
    ]


# The bot rules read these stored headers; redacting one turns its rule off.
CLASSIFYING_HEADERS = ("User-Agent", "Accept-Language", "Sec-Fetch-Dest")


def _check_redactions_keep_classification() -> list[CheckMessage]:
    redacted = conf.REDACTED_HEADERS
    if isinstance(redacted, str) or not isinstance(redacted, Sequence):
        return []  # E006 already reports it.
    lowered = {str(name).lower() for name in redacted}
    lost = [name for name in CLASSIFYING_HEADERS if name.lower() in lowered]
    if not lost:
        return []
    return [
        Warning(
            "LAMBDACTR_REDACTED_HEADERS removes headers that bot detection reads: "
            + ", ".join(lost)
            + ".",
            hint="Those rules are skipped, so more bots are counted as people.",
            id="lambdactr_django.W002",
        )
    ]


# Ids are stable and never reused.
_SETTING_CHECKS: list[Callable[[], list[CheckMessage]]] = [
    _check_base_url,
    _bool_check("STORE_CLIENT_IP", "lambdactr_django.E002"),
    _strings_check("REFERRER_QUERY_ALLOWLIST", "lambdactr_django.E003"),
    _positive_int_check("MAX_HEADERS", "lambdactr_django.E004"),
    _positive_int_check("MAX_HEADER_LENGTH", "lambdactr_django.E005"),
    _strings_check("REDACTED_HEADERS", "lambdactr_django.E006"),
    _bool_check("REQUIRE_SIGNATURE", "lambdactr_django.E007"),
    _bool_check("DAILY_VISITORS", "lambdactr_django.E008"),
    _check_time_zone,
    _check_privacy_signals,
    _check_retention_days,
    _check_redactions_keep_classification,
]
