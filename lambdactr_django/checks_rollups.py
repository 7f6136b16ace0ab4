"""System checks of the rollups' settings (docs/statistics.md). Ids E4xx."""

from __future__ import annotations

from collections.abc import Callable

from django.core.checks import CheckMessage, Error

from lambdactr_django.conf import conf

# The statistics' top lists have ten rows.
ROLLUP_KEEP_MIN = 10


def _at_least(
    setting: str, value: object, least: int, hint: str, check_id: str
) -> list[CheckMessage]:
    if isinstance(value, int) and not isinstance(value, bool) and value >= least:
        return []
    message = f"LAMBDACTR_{setting} should be an integer of at least {least}, not {value!r}."
    return [Error(message, hint=hint, id=f"lambdactr_django.{check_id}")]


def _check_rollup_keep() -> list[CheckMessage]:
    hint = "Fewer kept values would leave the top ten of a day mostly to estimates."
    return _at_least("ROLLUP_KEEP", conf.ROLLUP_KEEP, ROLLUP_KEEP_MIN, hint, "E401")


def _check_rollup_keep_bots() -> list[CheckMessage]:
    hint = (
        "It is how many pages, browsers, ... of bots and prefetches a day's rollups "
        "keep one by one; the rest are counted together."
    )
    return _at_least("ROLLUP_KEEP_BOTS", conf.ROLLUP_KEEP_BOTS, 1, hint, "E402")


def _check_rollup_keep_every_site() -> list[CheckMessage]:
    # Never fewer than one site's groups keep (LAMBDACTR_ROLLUP_KEEP, if valid).
    keep = conf.ROLLUP_KEEP
    least = max(keep, ROLLUP_KEEP_MIN) if type(keep) is int else ROLLUP_KEEP_MIN
    hint = (
        "It is how many pages, entry pages and referrers of people a day's rollups over "
        "every site keep one by one, at least LAMBDACTR_ROLLUP_KEEP."
    )
    return _at_least("ROLLUP_KEEP_EVERY_SITE", conf.ROLLUP_KEEP_EVERY_SITE, least, hint, "E403")


ROLLUP_CHECKS: list[Callable[[], list[CheckMessage]]] = [
    _check_rollup_keep,
    _check_rollup_keep_bots,
    _check_rollup_keep_every_site,
]
