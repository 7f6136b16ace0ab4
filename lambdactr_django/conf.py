from __future__ import annotations

import os
from collections.abc import Sequence

from django.conf import settings

# Read on every access, never at import time, so override_settings() just works.


class Settings:
    @property
    def BASE_URL(self) -> str | None:
        return getattr(settings, "LAMBDACTR_BASE_URL", None)

    @property
    def STORE_CLIENT_IP(self) -> bool:
        return getattr(settings, "LAMBDACTR_STORE_CLIENT_IP", False)

    @property
    def REFERRER_QUERY_ALLOWLIST(self) -> Sequence[str]:
        return getattr(settings, "LAMBDACTR_REFERRER_QUERY_ALLOWLIST", ("utm_*",))

    @property
    def MAX_HEADERS(self) -> int:
        return getattr(settings, "LAMBDACTR_MAX_HEADERS", 50)

    @property
    def MAX_HEADER_LENGTH(self) -> int:
        return getattr(settings, "LAMBDACTR_MAX_HEADER_LENGTH", 1024)

    @property
    def REDACTED_HEADERS(self) -> Sequence[str]:
        return getattr(settings, "LAMBDACTR_REDACTED_HEADERS", ())

    @property
    def STORED_HEADERS(self) -> Sequence[str]:
        return getattr(settings, "LAMBDACTR_STORED_HEADERS", ())

    @property
    def REQUIRE_SIGNATURE(self) -> bool:
        return getattr(settings, "LAMBDACTR_REQUIRE_SIGNATURE", False)

    @property
    def DAILY_VISITORS(self) -> bool:
        return getattr(settings, "LAMBDACTR_DAILY_VISITORS", True)

    @property
    def TIME_ZONE(self) -> str | None:
        return getattr(settings, "LAMBDACTR_TIME_ZONE", None)

    @property
    def PRIVACY_SIGNALS(self) -> str:
        return getattr(settings, "LAMBDACTR_PRIVACY_SIGNALS", "record")

    @property
    def RETENTION_DAYS(self) -> int | None:
        return getattr(settings, "LAMBDACTR_RETENTION_DAYS", None)

    @property
    def SPOOL_DIR(self) -> str | os.PathLike[str] | None:
        return getattr(settings, "LAMBDACTR_SPOOL_DIR", None)

    @property
    def SPOOL_MAX_BYTES(self) -> int:
        return getattr(settings, "LAMBDACTR_SPOOL_MAX_BYTES", 64 * 1024 * 1024)

    @property
    def BUFFER_SECONDS(self) -> float | None:
        return getattr(settings, "LAMBDACTR_BUFFER_SECONDS", None)

    @property
    def DB_TIMEOUT(self) -> float:
        return getattr(settings, "LAMBDACTR_DB_TIMEOUT", 2.0)

    @property
    def REPLAY_TIMEOUT(self) -> float:
        return getattr(settings, "LAMBDACTR_REPLAY_TIMEOUT", 30.0)

    @property
    def INGEST_URL(self) -> str | None:
        return getattr(settings, "LAMBDACTR_INGEST_URL", None)

    @property
    def INGEST_STREAM(self) -> str:
        return getattr(settings, "LAMBDACTR_INGEST_STREAM", "lambdactr:hits")

    @property
    def INGEST_MAX_LENGTH(self) -> int:
        return getattr(settings, "LAMBDACTR_INGEST_MAX_LENGTH", 1_000_000)

    @property
    def INGEST_TIMEOUT(self) -> float:
        return getattr(settings, "LAMBDACTR_INGEST_TIMEOUT", 0.5)

    @property
    def INGEST_CLAIM_SECONDS(self) -> float:
        return getattr(settings, "LAMBDACTR_INGEST_CLAIM_SECONDS", 60.0)

    @property
    def EXPORT_MAX_ROWS(self) -> int | None:
        return getattr(settings, "LAMBDACTR_EXPORT_MAX_ROWS", 50_000)

    @property
    def REFERRER_TOKEN_MAX_AGE(self) -> int:
        return getattr(settings, "LAMBDACTR_REFERRER_TOKEN_MAX_AGE", 3600)

    @property
    def REFERRER_TOKEN_USES(self) -> int:
        return getattr(settings, "LAMBDACTR_REFERRER_TOKEN_USES", 3)

    @property
    def SITES(self) -> Sequence[str] | None:
        return getattr(settings, "LAMBDACTR_SITES", None)

    @property
    def ROLLUP_KEEP(self) -> int:
        return getattr(settings, "LAMBDACTR_ROLLUP_KEEP", 15)

    @property
    def RATE_LIMIT(self) -> int | None:
        return getattr(settings, "LAMBDACTR_RATE_LIMIT", 300)

    @property
    def TRUSTED_PROXIES(self) -> Sequence[str]:
        return getattr(settings, "LAMBDACTR_TRUSTED_PROXIES", ())

    @property
    def RATE_LIMIT_CACHE(self) -> str:
        return getattr(settings, "LAMBDACTR_RATE_LIMIT_CACHE", "default")

    @property
    def API_RATE_LIMIT(self) -> int | None:
        return getattr(settings, "LAMBDACTR_API_RATE_LIMIT", 60)

    @property
    def SITE_URL(self) -> str | None:
        return getattr(settings, "LAMBDACTR_SITE_URL", None)

    @property
    def COUNTRY_HEADER(self) -> str | None:
        return getattr(settings, "LAMBDACTR_COUNTRY_HEADER", None)

    # Django's own GeoIP2 settings (django.contrib.gis.geoip2), read as it reads them.
    @property
    def GEOIP_PATH(self) -> str | os.PathLike[str] | None:
        return getattr(settings, "GEOIP_PATH", None)

    @property
    def GEOIP_COUNTRY(self) -> str:
        return getattr(settings, "GEOIP_COUNTRY", "GeoLite2-Country.mmdb")

    @property
    def GEOIP_CITY(self) -> str:
        return getattr(settings, "GEOIP_CITY", "GeoLite2-City.mmdb")

    @property
    def DATABASE(self) -> str | None:
        return getattr(settings, "LAMBDACTR_DATABASE", None)

    @property
    def BEACON_DATABASE(self) -> str | None:
        # Renamed from LAMBDACTR_WRITE_DATABASE (0.1): the old name is still read.
        if hasattr(settings, "LAMBDACTR_BEACON_DATABASE"):
            alias: str | None = getattr(settings, "LAMBDACTR_BEACON_DATABASE")  # noqa: B009
            return alias
        return getattr(settings, "LAMBDACTR_WRITE_DATABASE", None)

    @property
    def USES_OLD_BEACON_DATABASE_NAME(self) -> bool:
        return hasattr(settings, "LAMBDACTR_WRITE_DATABASE") and not hasattr(
            settings, "LAMBDACTR_BEACON_DATABASE"
        )


conf = Settings()
