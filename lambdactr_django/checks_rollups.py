"""System checks of the rollups' settings (docs/statistics.md). Ids E4xx."""

from __future__ import annotations

from collections.abc import Callable

from django.core.checks import CheckMessage, Error

from lambdactr_django.conf import conf


def _check_rollup_keep() -> list[CheckMessage]:
    value = conf.ROLLUP_KEEP
    if isinstance(value, int) and not isinstance(value, bool) and value >= ROLLUP_KEEP_MIN:
        return []
    return [
        Error(
            f"LAMBDACTR_ROLLUP_KEEP should be an integer of at least {ROLLUP_KEEP_MIN}, "
            f"not {value!r}.",
            hint="Fewer kept values would leave the top ten of a day mostly to estimates.",
            id="lambdactr_django.E401",
        )
    ]


# The statistics' top lists have ten rows.
ROLLUP_KEEP_MIN = 10


def _check_rollup_keep_bots() -> list[CheckMessage]:
    value = conf.ROLLUP_KEEP_BOTS
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return []
    return [
        Error(
            f"LAMBDACTR_ROLLUP_KEEP_BOTS should be an integer of at least 1, not {value!r}.",
            hint="It is how many pages, browsers, ... of bots and prefetches a day's "
            "rollups keep one by one; the rest are counted together.",
            id="lambdactr_django.E402",
        )
    ]


def _check_rollup_keep_every_site() -> list[CheckMessage]:
    value = conf.ROLLUP_KEEP_EVERY_SITE
    least = conf.ROLLUP_KEEP if isinstance(conf.ROLLUP_KEEP, int) else ROLLUP_KEEP_MIN
    least = max(least, ROLLUP_KEEP_MIN)
    if isinstance(value, int) and not isinstance(value, bool) and value >= least:
        return []
    return [
        Error(
            f"LAMBDACTR_ROLLUP_KEEP_EVERY_SITE should be an integer of at least "
            f"LAMBDACTR_ROLLUP_KEEP ({least}), not {value!r}.",
            hint="It is how many pages, entry pages and referrers of people a day's "
            "rollups over every site keep one by one; one site's groups keep "
            "LAMBDACTR_ROLLUP_KEEP.",
            id="lambdactr_django.E403",
        )
    ]


ROLLUP_CHECKS: list[Callable[[], list[CheckMessage]]] = [
    _check_rollup_keep,
    _check_rollup_keep_bots,
    _check_rollup_keep_every_site,
]
