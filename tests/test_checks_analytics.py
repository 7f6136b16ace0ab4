from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from lambdactr_django.checks import check_settings


def _ids() -> list[str]:
    return [message.id or "" for message in check_settings()]


@pytest.mark.parametrize(
    ("setting", "value", "check_id"),
    [
        ("LAMBDACTR_DAILY_VISITORS", "yes", "lambdactr_django.E008"),
        ("LAMBDACTR_TIME_ZONE", "Mars/Olympus", "lambdactr_django.E009"),
        ("LAMBDACTR_TIME_ZONE", 3, "lambdactr_django.E009"),
        ("LAMBDACTR_TIME_ZONE", "", "lambdactr_django.E009"),
        ("LAMBDACTR_PRIVACY_SIGNALS", "ignore", "lambdactr_django.E010"),
        ("LAMBDACTR_RETENTION_DAYS", 0, "lambdactr_django.E011"),
        ("LAMBDACTR_RETENTION_DAYS", "30", "lambdactr_django.E011"),
        ("LAMBDACTR_RETENTION_DAYS", True, "lambdactr_django.E011"),
        ("LAMBDACTR_REDACTED_HEADERS", ["accept-language"], "lambdactr_django.W002"),
        ("LAMBDACTR_REDACTED_HEADERS", ["Sec-Fetch-Dest"], "lambdactr_django.W002"),
    ],
)
def test_bad_values_are_reported(setting: str, value: Any, check_id: str) -> None:
    with override_settings(**{setting: value}):
        assert _ids() == [check_id]


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("LAMBDACTR_DAILY_VISITORS", False),
        ("LAMBDACTR_TIME_ZONE", None),
        ("LAMBDACTR_TIME_ZONE", "Europe/Paris"),
        ("LAMBDACTR_PRIVACY_SIGNALS", "record"),
        ("LAMBDACTR_PRIVACY_SIGNALS", "honour"),
        ("LAMBDACTR_RETENTION_DAYS", None),
        ("LAMBDACTR_RETENTION_DAYS", 400),
        ("LAMBDACTR_REDACTED_HEADERS", ["X-Custom"]),
    ],
)
def test_good_values_pass(setting: str, value: Any) -> None:
    with override_settings(**{setting: value}):
        assert _ids() == []
