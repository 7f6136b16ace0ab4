"""System checks of the capture's dimensions (docs/visits.md, docs/statistics.md):
the country's sources. Ids E5xx and W5xx."""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from django.core.checks import CheckMessage, Error, Warning

from lambdactr_django.beacon.capture import CLIENT_ADDRESS_HEADERS
from lambdactr_django.conf import conf

# An HTTP field name (RFC 9110's token).
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _check_country_header() -> list[CheckMessage]:
    value = conf.COUNTRY_HEADER
    if value is None:
        return []
    if not isinstance(value, str) or not _HEADER_NAME.fullmatch(value):
        return [
            Error(
                f"LAMBDACTR_COUNTRY_HEADER should be None or a header's name such as "
                f'"CF-IPCountry", not {value!r}.',
                id="lambdactr_django.E501",
            )
        ]
    if value.lower() in CLIENT_ADDRESS_HEADERS:
        return [
            Error(
                f"LAMBDACTR_COUNTRY_HEADER names {value!r}, a header that carries the "
                "client's address, not a country.",
                hint='Name the header your CDN puts the country code in, e.g. "CF-IPCountry".',
                id="lambdactr_django.E502",
            )
        ]
    return []


def _check_geoip() -> list[CheckMessage]:
    path = conf.GEOIP_PATH
    if not path or conf.COUNTRY_HEADER:
        # Not set, or the CDN's header is used instead.
        return []
    try:
        import geoip2.database
    except ImportError:
        return [
            Warning(
                "GEOIP_PATH is set but the geoip2 library is not installed: hits get no country.",
                hint='pip install "lambdactr-django[geoip]"',
                id="lambdactr_django.W501",
            )
        ]
    from lambdactr_django.beacon.country import database_file

    try:
        file = database_file(os.fspath(path))
        geoip2.database.Reader(file).close()
    except Exception as error:
        return [
            Warning(
                f"GEOIP_PATH is set but no GeoIP2 database can be opened there ({error}): "
                "hits get no country.",
                hint="Point GEOIP_PATH at a GeoLite2 or GeoIP2 Country (or City) .mmdb "
                "file, or a directory holding GEOIP_COUNTRY.",
                id="lambdactr_django.W502",
            )
        ]
    return []


# Ids are stable and never reused.
DIMENSION_CHECKS: list[Callable[[], list[CheckMessage]]] = [_check_country_header, _check_geoip]
