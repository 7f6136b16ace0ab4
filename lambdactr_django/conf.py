from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any, TypeVar

from django.conf import settings
from django.core.signals import setting_changed

_T = TypeVar("_T")
# A setting that is not set, told apart from one set to None.
_UNSET: Any = object()
_NOT_READ: Any = object()


# Read lazily, never at import time, and kept until a setting changes
# (override_settings() sends setting_changed): the beacon reads a dozen of
# these per hit, and a getattr() on Django's settings for a name that is not
# set raises and catches an AttributeError each time.
class Settings:
    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        self._generation = 0
        self._lock = threading.Lock()

    def _get(self, name: str, default: _T) -> Any | _T:
        value = self._values.get(name, _NOT_READ)
        if value is _NOT_READ:
            value = self._read(name)
        return default if value is _UNSET else value

    def _read(self, name: str) -> Any:
        generation = self._generation
        value = getattr(settings, name, _UNSET)
        with self._lock:
            # Not kept if a setting changed while it was read: it may be the old value.
            if generation == self._generation:
                self._values[name] = value
        return value

    def _has(self, name: str) -> bool:
        return self._get(name, _UNSET) is not _UNSET

    def clear(self) -> None:
        """Forget the values read: the next access reads Django's settings again."""
        with self._lock:
            self._generation += 1
            self._values.clear()

    @property
    def BASE_URL(self) -> str | None:
        return self._get("LAMBDACTR_BASE_URL", None)

    @property
    def STORE_CLIENT_IP(self) -> bool:
        return self._get("LAMBDACTR_STORE_CLIENT_IP", False)

    @property
    def REFERRER_QUERY_ALLOWLIST(self) -> Sequence[str]:
        return self._get("LAMBDACTR_REFERRER_QUERY_ALLOWLIST", ("utm_*",))

    @property
    def MAX_HEADERS(self) -> int:
        return self._get("LAMBDACTR_MAX_HEADERS", 50)

    @property
    def MAX_HEADER_LENGTH(self) -> int:
        return self._get("LAMBDACTR_MAX_HEADER_LENGTH", 1024)

    @property
    def REDACTED_HEADERS(self) -> Sequence[str]:
        return self._get("LAMBDACTR_REDACTED_HEADERS", ())

    @property
    def STORED_HEADERS(self) -> Sequence[str]:
        return self._get("LAMBDACTR_STORED_HEADERS", ())

    @property
    def REQUIRE_SIGNATURE(self) -> bool:
        return self._get("LAMBDACTR_REQUIRE_SIGNATURE", False)

    @property
    def DAILY_VISITORS(self) -> bool:
        return self._get("LAMBDACTR_DAILY_VISITORS", True)

    @property
    def TIME_ZONE(self) -> str | None:
        return self._get("LAMBDACTR_TIME_ZONE", None)

    @property
    def PRIVACY_SIGNALS(self) -> str:
        return self._get("LAMBDACTR_PRIVACY_SIGNALS", "record")

    @property
    def RETENTION_DAYS(self) -> int | None:
        return self._get("LAMBDACTR_RETENTION_DAYS", None)

    @property
    def SPOOL_DIR(self) -> str | os.PathLike[str] | None:
        return self._get("LAMBDACTR_SPOOL_DIR", None)

    @property
    def SPOOL_MAX_BYTES(self) -> int:
        return self._get("LAMBDACTR_SPOOL_MAX_BYTES", 64 * 1024 * 1024)

    @property
    def BUFFER_SECONDS(self) -> float | None:
        return self._get("LAMBDACTR_BUFFER_SECONDS", None)

    @property
    def DB_TIMEOUT(self) -> float:
        return self._get("LAMBDACTR_DB_TIMEOUT", 2.0)

    @property
    def REPLAY_TIMEOUT(self) -> float:
        return self._get("LAMBDACTR_REPLAY_TIMEOUT", 30.0)

    @property
    def INGEST_URL(self) -> str | None:
        return self._get("LAMBDACTR_INGEST_URL", None)

    @property
    def INGEST_STREAM(self) -> str:
        return self._get("LAMBDACTR_INGEST_STREAM", "lambdactr:hits")

    @property
    def INGEST_MAX_LENGTH(self) -> int:
        return self._get("LAMBDACTR_INGEST_MAX_LENGTH", 1_000_000)

    @property
    def INGEST_TIMEOUT(self) -> float:
        return self._get("LAMBDACTR_INGEST_TIMEOUT", 0.5)

    @property
    def INGEST_CLAIM_SECONDS(self) -> float:
        return self._get("LAMBDACTR_INGEST_CLAIM_SECONDS", 60.0)

    @property
    def EXPORT_MAX_ROWS(self) -> int | None:
        return self._get("LAMBDACTR_EXPORT_MAX_ROWS", 50_000)

    @property
    def REFERRER_TOKEN_MAX_AGE(self) -> int:
        return self._get("LAMBDACTR_REFERRER_TOKEN_MAX_AGE", 3600)

    @property
    def REFERRER_TOKEN_USES(self) -> int:
        return self._get("LAMBDACTR_REFERRER_TOKEN_USES", 3)

    @property
    def SITES(self) -> Sequence[str] | None:
        return self._get("LAMBDACTR_SITES", None)

    @property
    def ROLLUP_KEEP(self) -> int:
        return self._get("LAMBDACTR_ROLLUP_KEEP", 10)

    @property
    def ROLLUP_KEEP_EVERY_SITE(self) -> int:
        return self._get("LAMBDACTR_ROLLUP_KEEP_EVERY_SITE", 30)

    @property
    def ROLLUP_KEEP_BOTS(self) -> int:
        return self._get("LAMBDACTR_ROLLUP_KEEP_BOTS", 1)

    @property
    def RATE_LIMIT(self) -> int | None:
        return self._get("LAMBDACTR_RATE_LIMIT", 300)

    @property
    def TRUSTED_PROXIES(self) -> Sequence[str]:
        return self._get("LAMBDACTR_TRUSTED_PROXIES", ())

    @property
    def RATE_LIMIT_CACHE(self) -> str:
        return self._get("LAMBDACTR_RATE_LIMIT_CACHE", "default")

    @property
    def API_RATE_LIMIT(self) -> int | None:
        return self._get("LAMBDACTR_API_RATE_LIMIT", 60)

    @property
    def SITE_URL(self) -> str | None:
        return self._get("LAMBDACTR_SITE_URL", None)

    @property
    def COUNTRY_HEADER(self) -> str | None:
        return self._get("LAMBDACTR_COUNTRY_HEADER", None)

    # Django's own GeoIP2 settings (django.contrib.gis.geoip2), read as it reads them.
    @property
    def GEOIP_PATH(self) -> str | os.PathLike[str] | None:
        return self._get("GEOIP_PATH", None)

    @property
    def GEOIP_COUNTRY(self) -> str:
        return self._get("GEOIP_COUNTRY", "GeoLite2-Country.mmdb")

    @property
    def GEOIP_CITY(self) -> str:
        return self._get("GEOIP_CITY", "GeoLite2-City.mmdb")

    @property
    def DATABASE(self) -> str | None:
        return self._get("LAMBDACTR_DATABASE", None)

    @property
    def BEACON_DATABASE(self) -> str | None:
        # Renamed from LAMBDACTR_WRITE_DATABASE (0.1): the old name is still read.
        if self._has("LAMBDACTR_BEACON_DATABASE"):
            alias: str | None = self._get("LAMBDACTR_BEACON_DATABASE", None)
            return alias
        return self._get("LAMBDACTR_WRITE_DATABASE", None)

    @property
    def USES_OLD_BEACON_DATABASE_NAME(self) -> bool:
        return self._has("LAMBDACTR_WRITE_DATABASE") and not self._has("LAMBDACTR_BEACON_DATABASE")


conf = Settings()


def _forget(**kwargs: object) -> None:
    conf.clear()


setting_changed.connect(_forget, dispatch_uid="lambdactr_django.conf")
