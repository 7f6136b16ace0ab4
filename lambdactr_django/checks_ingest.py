"""System checks of the broker settings (docs/scaling.md): ids E8xx and W8xx."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from urllib.parse import urlsplit

from django.core.checks import CheckMessage, Error

from lambdactr_django.conf import conf

SCHEMES = ("redis", "rediss", "unix")


def _check_ingest_url() -> list[CheckMessage]:
    value = conf.INGEST_URL
    if value is None:
        return []
    if not isinstance(value, str) or urlsplit(value).scheme not in SCHEMES:
        return [
            Error(
                "LAMBDACTR_INGEST_URL should be None (no broker) or a Redis URL such as "
                f"'redis://127.0.0.1:6379/0', not {value!r}.",
                hint="Schemes: " + ", ".join(f"{scheme}://" for scheme in SCHEMES) + ".",
                id="lambdactr_django.E801",
            )
        ]
    errors: list[CheckMessage] = []
    if conf.SPOOL_DIR is None:
        errors.append(
            Error(
                "LAMBDACTR_INGEST_URL is set but LAMBDACTR_SPOOL_DIR is not: while the broker "
                "is unreachable or full, hits are kept in the spool directory.",
                hint="Set LAMBDACTR_SPOOL_DIR to a directory on the app server's disk.",
                id="lambdactr_django.E802",
            )
        )
    if importlib.util.find_spec("redis") is None:
        errors.append(
            Error(
                "LAMBDACTR_INGEST_URL is set but the redis package is not installed.",
                hint="pip install 'lambdactr-django[redis]'",
                id="lambdactr_django.E803",
            )
        )
    return errors


def _check_stream() -> list[CheckMessage]:
    value = conf.INGEST_STREAM
    if isinstance(value, str) and value.strip() and len(value) <= 200:
        return []
    return [
        Error(
            f"LAMBDACTR_INGEST_STREAM should be a Redis key name, not {value!r}.",
            id="lambdactr_django.E804",
        )
    ]


def _check_max_length() -> list[CheckMessage]:
    value = conf.INGEST_MAX_LENGTH
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return []
    return [
        Error(
            f"LAMBDACTR_INGEST_MAX_LENGTH should be a positive integer, not {value!r}.",
            hint="The hits the stream holds before the beacon keeps new ones in its spool.",
            id="lambdactr_django.E805",
        )
    ]


def _seconds_check(
    name: str, low: float, high: float, error_id: str, hint: str
) -> Callable[[], list[CheckMessage]]:
    def check() -> list[CheckMessage]:
        value = getattr(conf, name)
        if isinstance(value, int | float) and not isinstance(value, bool) and low < value <= high:
            return []
        return [
            Error(
                f"LAMBDACTR_{name} should be a number of seconds above {low:g} and at most "
                f"{high:g}, not {value!r}.",
                hint=hint,
                id=error_id,
            )
        ]

    return check


INGEST_CHECKS: list[Callable[[], list[CheckMessage]]] = [
    _check_ingest_url,
    _check_stream,
    _check_max_length,
    _seconds_check(
        "INGEST_TIMEOUT",
        0,
        5,
        "lambdactr_django.E806",
        "The beacon waits at most this long for the broker before it spools the hit.",
    ),
    _seconds_check(
        "INGEST_CLAIM_SECONDS",
        0,
        86400,
        "lambdactr_django.E807",
        "How long an entry a consumer took stays its own before another may claim it.",
    ),
]
