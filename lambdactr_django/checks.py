from __future__ import annotations

import os
import zoneinfo
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.checks import CheckMessage, Error, Warning
from django.db import connections, router
from django.urls import NoReverseMatch, reverse

from lambdactr_django.beacon.embed import is_base_url
from lambdactr_django.checks_api import API_CHECKS
from lambdactr_django.checks_dimensions import DIMENSION_CHECKS
from lambdactr_django.checks_ingest import INGEST_CHECKS
from lambdactr_django.checks_rollups import ROLLUP_CHECKS
from lambdactr_django.checks_security import SECURITY_CHECKS
from lambdactr_django.conf import conf


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for check in _SETTING_CHECKS:
        errors.extend(check())
    return errors


def check_deployment(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """What a production deployment needs: run by ``manage.py check --deploy`` only,
    so a development site and its cron jobs stay quiet."""
    errors: list[CheckMessage] = []
    for check in _DEPLOYMENT_CHECKS:
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


def _check_spool_dir_set() -> list[CheckMessage]:
    if conf.SPOOL_DIR is None:
        return [
            Warning(
                "LAMBDACTR_SPOOL_DIR is not set: hits that arrive while the database is "
                "unavailable are lost (and counted in the log).",
                hint="Set it to a directory the web server can write, kept across restarts.",
                id="lambdactr_django.W101",
            )
        ]
    return []


def _check_spool_dir() -> list[CheckMessage]:
    value = conf.SPOOL_DIR
    if value is None or (isinstance(value, str | os.PathLike) and os.path.isabs(value)):
        return []
    return [
        Error(
            f"LAMBDACTR_SPOOL_DIR should be None or an absolute path, not {value!r}.",
            id="lambdactr_django.E101",
        )
    ]


def _check_db_timeout() -> list[CheckMessage]:
    value = conf.DB_TIMEOUT
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 60:
        return []
    return [
        Error(
            f"LAMBDACTR_DB_TIMEOUT should be a number of seconds above 0 and at most 60, "
            f"not {value!r}.",
            id="lambdactr_django.E103",
        )
    ]


def _check_buffer_seconds() -> list[CheckMessage]:
    value = conf.BUFFER_SECONDS
    if value is None or value == 0:
        return []
    if not (isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 60):
        return [
            Error(
                "LAMBDACTR_BUFFER_SECONDS should be None (durable writes) or a number of "
                f"seconds above 0 and at most 60, not {value!r}.",
                id="lambdactr_django.E106",
            )
        ]
    if conf.SPOOL_DIR is None:
        return [
            Error(
                "LAMBDACTR_BUFFER_SECONDS is set but LAMBDACTR_SPOOL_DIR is not: buffered hits "
                "are journaled in the spool directory, so hits are stored one by one.",
                hint="Set LAMBDACTR_SPOOL_DIR, or LAMBDACTR_BUFFER_SECONDS = None.",
                id="lambdactr_django.E107",
            )
        ]
    return []


def _check_rate_limit() -> list[CheckMessage]:
    value = conf.RATE_LIMIT
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        return []
    return [
        Error(
            f"LAMBDACTR_RATE_LIMIT should be None or a positive integer, not {value!r}.",
            id="lambdactr_django.E104",
        )
    ]


def _check_rate_limit_cache() -> list[CheckMessage]:
    alias = conf.RATE_LIMIT_CACHE
    if conf.RATE_LIMIT is None:
        return []
    backend = caches.settings.get(alias, {}).get("BACKEND", "") if isinstance(alias, str) else ""
    if backend and not backend.endswith("DatabaseCache"):
        return []
    return [
        Error(
            f"LAMBDACTR_RATE_LIMIT_CACHE should name a cache in CACHES that is not "
            f"DatabaseCache, not {alias!r}.",
            hint="The rate limit's keys are kept out of the database.",
            id="lambdactr_django.E105",
        )
    ]


def _check_connect_timeout() -> list[CheckMessage]:
    from lambdactr_django.store.database import beacon_alias

    alias = beacon_alias()
    if not isinstance(alias, str) or alias not in connections.settings:
        return []  # E201 or E202 already reports it.
    database = connections[alias].settings_dict
    if "postgresql" not in database.get("ENGINE", ""):
        return []
    timeout = database.get("OPTIONS", {}).get("connect_timeout")
    try:
        if timeout is not None and 0 < float(timeout) <= 10:
            return []
    except (TypeError, ValueError):
        pass
    return [
        Warning(
            "The database the counter writes to has no short connect_timeout: while it "
            "is unreachable each beacon request can hold a worker for minutes.",
            hint='Add "connect_timeout": 2 to its OPTIONS.',
            id="lambdactr_django.W102",
        )
    ]


def _alias_check(name: str, check_id: str) -> Callable[[], list[CheckMessage]]:
    def check() -> list[CheckMessage]:
        value = getattr(conf, name)
        if value is None or (isinstance(value, str) and value in connections.settings):
            return []
        return [
            Error(
                f"LAMBDACTR_{name} should be None or an alias in DATABASES, not {value!r}.",
                id=check_id,
            )
        ]

    return check


def _check_old_beacon_database_name() -> list[CheckMessage]:
    if not conf.USES_OLD_BEACON_DATABASE_NAME:
        return []
    return [
        Warning(
            "LAMBDACTR_WRITE_DATABASE is now called LAMBDACTR_BEACON_DATABASE; the old "
            "name is read for this release only.",
            hint="Rename the setting.",
            id="lambdactr_django.W202",
        )
    ]


FAST_PATH_MIDDLEWARE = "lambdactr_django.beacon.fastpath.BeaconFastPathMiddleware"


def _check_fast_path_middleware() -> list[CheckMessage]:
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if FAST_PATH_MIDDLEWARE not in middleware or middleware[0] == FAST_PATH_MIDDLEWARE:
        return []
    return [
        Warning(
            "BeaconFastPathMiddleware is not first in MIDDLEWARE: every middleware above it "
            "runs for each hit.",
            hint="Move it to the top of MIDDLEWARE, or wrap the WSGI application in "
            "BeaconFastPath instead (docs/fast-path.md).",
            id="lambdactr_django.W003",
        )
    ]


ROUTER = "lambdactr_django.routers.CounterRouter"


def _check_router() -> list[CheckMessage]:
    from lambdactr_django.models import HeaderHit

    alias = conf.DATABASE
    if not isinstance(alias, str) or alias not in connections.settings:
        return []
    # Asks the routers rather than looking for ours by name: a project router
    # that already sends the hits there is as good.
    routed = {router.db_for_read(HeaderHit), router.db_for_write(HeaderHit)}
    if routed == {alias} and router.allow_migrate_model(alias, HeaderHit):
        return []
    return [
        Warning(
            f"LAMBDACTR_DATABASE is {alias!r} but the counter's hits are routed to "
            + ", ".join(repr(name) for name in sorted(routed))
            + ".",
            hint=f'Add "{ROUTER}" to DATABASE_ROUTERS.',
            id="lambdactr_django.W201",
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
    _strings_check("STORED_HEADERS", "lambdactr_django.E302"),
    _bool_check("REQUIRE_SIGNATURE", "lambdactr_django.E007"),
    _bool_check("DAILY_VISITORS", "lambdactr_django.E008"),
    _check_time_zone,
    _check_privacy_signals,
    _check_retention_days,
    _check_redactions_keep_classification,
    _check_fast_path_middleware,
    _check_spool_dir,
    _positive_int_check("SPOOL_MAX_BYTES", "lambdactr_django.E102"),
    _check_db_timeout,
    _check_buffer_seconds,
    _check_rate_limit,
    _check_rate_limit_cache,
    *ROLLUP_CHECKS,
    _alias_check("DATABASE", "lambdactr_django.E201"),
    _alias_check("BEACON_DATABASE", "lambdactr_django.E202"),
    _check_old_beacon_database_name,
    _check_router,
    *SECURITY_CHECKS,
    *API_CHECKS,
    *DIMENSION_CHECKS,
    *INGEST_CHECKS,
]

_DEPLOYMENT_CHECKS: list[Callable[[], list[CheckMessage]]] = [
    _check_spool_dir_set,
    _check_connect_timeout,
]
