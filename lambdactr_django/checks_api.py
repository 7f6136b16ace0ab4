"""The checks of the JSON statistics' and the e-mail digest's settings (E7xx, W7xx)."""

from __future__ import annotations

from collections.abc import Callable

from django.core.cache import caches
from django.core.checks import CheckMessage, Error

from lambdactr_django.beacon.embed import is_base_url
from lambdactr_django.conf import conf


def _check_api_rate_limit() -> list[CheckMessage]:
    value = conf.API_RATE_LIMIT
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        return []
    return [
        Error(
            "LAMBDACTR_API_RATE_LIMIT should be None or a positive integer (requests per "
            f"minute and token), not {value!r}.",
            id="lambdactr_django.E701",
        )
    ]


def _check_api_rate_limit_cache() -> list[CheckMessage]:
    alias = conf.RATE_LIMIT_CACHE
    if conf.API_RATE_LIMIT is None or conf.RATE_LIMIT is not None:
        # With the beacon's limit on, E105 checks the same alias (and more strictly).
        return []
    if isinstance(alias, str) and alias in caches.settings:
        return []
    return [
        Error(
            f"LAMBDACTR_RATE_LIMIT_CACHE should name a cache in CACHES, not {alias!r}: "
            "the JSON statistics' rate limit counts there.",
            hint="Or set LAMBDACTR_API_RATE_LIMIT = None to turn that limit off.",
            id="lambdactr_django.E702",
        )
    ]


def _check_site_url() -> list[CheckMessage]:
    value = conf.SITE_URL
    if value is None or is_base_url(value):
        return []
    return [
        Error(
            "LAMBDACTR_SITE_URL should be None or an absolute http(s) URL without query "
            f"or fragment, not {value!r}.",
            hint='The address the admin is reached at, such as "https://www.example.com".',
            id="lambdactr_django.E703",
        )
    ]


API_CHECKS: list[Callable[[], list[CheckMessage]]] = [
    _check_api_rate_limit,
    _check_api_rate_limit_cache,
    _check_site_url,
]
