from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lambdactr_django.beacon import country
from tests.beacon.test_country import write_database
from tests.test_checks_reliability import ids


@pytest.mark.parametrize("value", ["", "CF IPCountry", "Country:", 2, ["CF-IPCountry"]])
def test_e501_country_header(value: object) -> None:
    assert ids(LAMBDACTR_COUNTRY_HEADER=value) == ["lambdactr_django.E501"]


@pytest.mark.parametrize("value", ["X-Forwarded-For", "cf-connecting-ip"])
def test_e502_country_header_that_carries_an_address(value: str) -> None:
    assert ids(LAMBDACTR_COUNTRY_HEADER=value) == ["lambdactr_django.E502"]


@pytest.mark.parametrize("value", [None, "CF-IPCountry", "CloudFront-Viewer-Country"])
def test_a_country_header_passes(value: str | None) -> None:
    assert ids(LAMBDACTR_COUNTRY_HEADER=value) == []


def test_w501_geoip_path_without_geoip2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "geoip2.database", None)
    assert ids(GEOIP_PATH=str(tmp_path)) == ["lambdactr_django.W501"]


@pytest.mark.parametrize("broken", ["missing", "garbage", "empty directory"])
def test_w502_geoip_path_without_a_database(tmp_path: Path, broken: str) -> None:
    path = tmp_path if broken == "empty directory" else tmp_path / "country.mmdb"
    if broken == "garbage":
        path.write_bytes(b"\x00" * 64)
    assert ids(GEOIP_PATH=str(path)) == ["lambdactr_django.W502"]


def test_a_geoip_database_passes(tmp_path: Path) -> None:
    write_database(tmp_path / "GeoLite2-Country.mmdb", {"192.0.2.0/24": "NZ"})
    country.reader_for.cache_clear()
    assert ids(GEOIP_PATH=str(tmp_path)) == []
    assert ids(GEOIP_PATH=str(tmp_path / "GeoLite2-Country.mmdb")) == []


def test_a_country_header_spares_the_geoip_check(tmp_path: Path) -> None:
    assert ids(GEOIP_PATH=str(tmp_path), LAMBDACTR_COUNTRY_HEADER="CF-IPCountry") == []
