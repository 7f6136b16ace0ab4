"""Countries without an address: a CDN's header when LAMBDACTR_COUNTRY_HEADER names
it, else a GeoIP2 database at GEOIP_PATH; the address is looked up and dropped."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from django.test import Client, override_settings
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from lambdactr_django.beacon import country
from lambdactr_django.models import HeaderHit
from tests.hits import STYLESHEET_HEADERS

pytestmark = pytest.mark.django_db


def write_database(path: Path, networks: dict[str, str], kind: str = "GeoLite2-Country") -> Path:
    """A small GeoIP2 database of our own: network -> country code."""
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type=kind)
    for network, code in networks.items():
        writer.insert_network(IPSet([network]), {"country": {"iso_code": code}})
    writer.to_db_file(str(path))
    return path


@pytest.fixture(autouse=True)
def _fresh_readers() -> None:
    country.reader_for.cache_clear()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return write_database(
        tmp_path / "GeoLite2-Country.mmdb", {"127.0.0.0/8": "DE", "192.0.2.0/24": "NZ"}
    )


def _country(client: Client, **headers: str) -> str:
    response = client.get("/ctr/s.css", headers={**STYLESHEET_HEADERS, **headers})
    assert response.status_code == 200
    return HeaderHit.objects.get().country


@override_settings(LAMBDACTR_COUNTRY_HEADER="CF-IPCountry")
@pytest.mark.parametrize(("sent", "stored"), [("de", "DE"), ("NZ", "NZ"), ("XX", ""), ("T1", "")])
def test_the_cdn_header_is_trusted_when_named(client: Client, sent: str, stored: str) -> None:
    assert _country(client, **{"CF-IPCountry": sent}) == stored


def test_the_cdn_header_is_ignored_unless_named(client: Client) -> None:
    assert _country(client, **{"CF-IPCountry": "DE"}) == ""


def test_a_geoip_database_gives_the_country_and_no_address_is_stored(
    client: Client, database: Path
) -> None:
    with override_settings(GEOIP_PATH=str(database.parent)):
        assert _country(client) == "DE"
    stored = json.dumps(list(HeaderHit.objects.values()), default=str)
    assert "127.0.0.1" not in stored


@override_settings(LAMBDACTR_TRUSTED_PROXIES=["127.0.0.1"])
def test_behind_a_trusted_proxy_the_forwarded_address_is_looked_up(
    client: Client, database: Path
) -> None:
    with override_settings(GEOIP_PATH=str(database)):
        assert _country(client, **{"X-Forwarded-For": "192.0.2.7"}) == "NZ"
    assert "192.0.2.7" not in json.dumps(list(HeaderHit.objects.values()), default=str)


def test_a_city_database_gives_the_country_too(client: Client, tmp_path: Path) -> None:
    city = write_database(tmp_path / "GeoLite2-City.mmdb", {"127.0.0.0/8": "FR"}, "GeoLite2-City")
    with override_settings(GEOIP_PATH=str(city.parent)):
        assert _country(client) == "FR"


def test_an_address_not_in_the_database_has_no_country(client: Client, tmp_path: Path) -> None:
    other = write_database(tmp_path / "other.mmdb", {"192.0.2.0/24": "NZ"})
    with override_settings(GEOIP_PATH=str(other)):
        assert _country(client) == ""


@pytest.mark.parametrize("broken", ["missing", "garbage"])
def test_a_broken_database_costs_the_country_only(
    client: Client, tmp_path: Path, caplog: pytest.LogCaptureFixture, broken: str
) -> None:
    path = tmp_path / "GeoLite2-Country.mmdb"
    if broken == "garbage":
        path.write_bytes(b"not a database" * 100)
    with override_settings(GEOIP_PATH=str(path)), caplog.at_level(logging.ERROR):
        assert _country(client) == ""
        client.get("/ctr/s.css", headers=STYLESHEET_HEADERS)
    assert HeaderHit.objects.count() == 2
    # Logged once, not once per hit.
    assert len([r for r in caplog.records if "GeoIP2 database" in r.getMessage()]) == 1


def test_the_reader_is_opened_once(database: Path) -> None:
    assert country.reader_for(str(database)) is country.reader_for(str(database))


def test_iso_codes_are_the_assigned_ones() -> None:
    assert len(country.ISO_3166_ALPHA_2) == 249
    assert {"DE", "US", "GB", "SS", "XK"} & country.ISO_3166_ALPHA_2 == {"DE", "US", "GB", "SS"}
