"""The visitor's country, without storing an address: from a CDN's header when
``LAMBDACTR_COUNTRY_HEADER`` names one, else from a GeoIP2 country database when
Django's ``GEOIP_PATH`` is set, looked up at capture and the address dropped.
"""

from __future__ import annotations

import functools
import logging
import os
from typing import TYPE_CHECKING, Any, Final

from lambdactr_django.beacon.lightrequest import BeaconRequest
from lambdactr_django.beacon.ratelimit import client_address
from lambdactr_django.conf import conf

if TYPE_CHECKING:
    from geoip2.database import Reader

logger = logging.getLogger(__name__)

# ISO 3166-1 alpha-2, the officially assigned codes: a CDN's "XX" (unknown) or
# "T1" (Tor) is none of them, so it is not a country.
_CODES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN
    BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
    DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL
    GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM
    JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME
    MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP
    NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD
    SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
    TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
ISO_3166_ALPHA_2: Final = frozenset(_CODES.split())


def country_of(request: BeaconRequest) -> str:
    """The ISO code of the request's country, or "" where none is known; never raises
    for a missing or broken database (it is logged once)."""
    header = conf.COUNTRY_HEADER
    if header:
        code = str(request.headers.get(header, "")).strip().upper()
        # Trusted only when named: the CDN sets it and drops the client's own.
        return code if code in ISO_3166_ALPHA_2 else ""
    path = conf.GEOIP_PATH
    if not path:
        return ""
    reader = reader_for(os.fspath(path))
    if reader is None:
        return ""
    return _look_up(reader, client_address(request))


def database_file(path: str) -> str:
    """The database Django's GeoIP2 would read for countries: the file itself, or in a
    directory its country database, else its city database."""
    if not os.path.isdir(path):
        return path
    country = os.path.join(path, conf.GEOIP_COUNTRY)
    if os.path.exists(country):
        return country
    return os.path.join(path, conf.GEOIP_CITY)


# One reader per database path, opened once per process; None (also cached) when
# it cannot be opened, so a broken database costs one log line, not one per hit.
@functools.lru_cache(maxsize=4)
def reader_for(path: str) -> Reader | None:
    try:
        from geoip2.database import Reader
    except ImportError:
        logger.error("lambdactr: GEOIP_PATH is set but geoip2 is not installed; no countries")
        return None
    try:
        return Reader(database_file(path))
    except Exception:
        logger.exception("lambdactr: cannot open the GeoIP2 database at %s; no countries", path)
        return None


def _look_up(reader: Reader, address: str) -> str:
    try:
        kind = reader.metadata().database_type
        found: Any = reader.city(address) if "City" in kind else reader.country(address)
    except Exception:
        # Not in the database (a private address), not an address, or a broken file.
        return ""
    code = str(found.country.iso_code or "")
    return code if code in ISO_3166_ALPHA_2 else ""
