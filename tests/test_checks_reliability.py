from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from lambdactr_django.checks import check_deployment, check_settings


def ids(**settings: Any) -> list[str]:
    with override_settings(**settings):
        return [message.id for message in check_settings() if message.id]


def deploy_ids(**settings: Any) -> list[str]:
    with override_settings(**settings):
        return [message.id for message in check_deployment() if message.id]


def test_the_test_settings_pass() -> None:
    assert ids() == []


def test_w101_no_spool_dir_only_for_deployment() -> None:
    assert deploy_ids(LAMBDACTR_SPOOL_DIR=None) == ["lambdactr_django.W101"]
    # A development site and its cron jobs stay quiet.
    assert ids(LAMBDACTR_SPOOL_DIR=None) == []


@pytest.mark.parametrize("value", ["relative/spool", 3, ""])
def test_e101_spool_dir(value: object) -> None:
    assert ids(LAMBDACTR_SPOOL_DIR=value) == ["lambdactr_django.E101"]


@pytest.mark.parametrize("value", [0, -1, "64M", True])
def test_e102_spool_max_bytes(value: object) -> None:
    assert ids(LAMBDACTR_SPOOL_MAX_BYTES=value) == ["lambdactr_django.E102"]


@pytest.mark.parametrize("value", [0, -1.5, "2", None, 61])
def test_e103_db_timeout(value: object) -> None:
    assert ids(LAMBDACTR_DB_TIMEOUT=value) == ["lambdactr_django.E103"]


@pytest.mark.parametrize("value", [0, -5, "300", 2.5, True])
def test_e104_rate_limit(value: object) -> None:
    assert ids(LAMBDACTR_RATE_LIMIT=value) == ["lambdactr_django.E104"]


def test_e105_rate_limit_cache_missing() -> None:
    assert ids(LAMBDACTR_RATE_LIMIT_CACHE="nope") == ["lambdactr_django.E105"]


def test_e105_rate_limit_cache_in_the_database() -> None:
    caches = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "db": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "t"},
    }
    assert ids(CACHES=caches, LAMBDACTR_RATE_LIMIT_CACHE="db") == ["lambdactr_django.E105"]


def test_e105_not_checked_without_a_limit() -> None:
    # Nor E702: the API's limit, which counts in the same cache, is off too.
    assert (
        ids(
            LAMBDACTR_RATE_LIMIT=None,
            LAMBDACTR_API_RATE_LIMIT=None,
            LAMBDACTR_RATE_LIMIT_CACHE="nope",
        )
        == []
    )


@pytest.mark.parametrize("options", [{}, {"connect_timeout": 0}, {"connect_timeout": 300}])
def test_w102_postgresql_without_a_short_connect_timeout(
    options: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connections

    settings_dict = dict(connections["default"].settings_dict)
    settings_dict.update(ENGINE="django.db.backends.postgresql", OPTIONS=options)
    monkeypatch.setattr(connections["default"], "settings_dict", settings_dict)

    assert deploy_ids() == ["lambdactr_django.W102"]
    assert ids() == []


def test_w102_quiet_with_a_connect_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.db import connections

    settings_dict = dict(connections["default"].settings_dict)
    settings_dict.update(ENGINE="django.db.backends.postgresql", OPTIONS={"connect_timeout": 2})
    monkeypatch.setattr(connections["default"], "settings_dict", settings_dict)

    assert deploy_ids() == []


@pytest.mark.parametrize("value", [-1, "1", True, 61, float("nan")])
def test_e106_buffer_seconds(value: object) -> None:
    assert ids(LAMBDACTR_BUFFER_SECONDS=value) == ["lambdactr_django.E106"]


@pytest.mark.parametrize("value", [None, 0, 0.5, 60])
def test_buffer_seconds_accepts(value: object) -> None:
    assert ids(LAMBDACTR_BUFFER_SECONDS=value) == []


def test_e107_buffer_without_spool_dir() -> None:
    assert ids(LAMBDACTR_BUFFER_SECONDS=1.0, LAMBDACTR_SPOOL_DIR=None) == [
        "lambdactr_django.E107",
    ]


@pytest.mark.parametrize("value", [9, 0, "25", 25.0, True, None])
def test_e401_rollup_keep(value: object) -> None:
    assert ids(LAMBDACTR_ROLLUP_KEEP=value) == ["lambdactr_django.E401"]


def test_e401_accepts_ten() -> None:
    assert ids(LAMBDACTR_ROLLUP_KEEP=10) == []


@pytest.mark.parametrize("value", [0, -1, "2", 2.0, True, None])
def test_e402_rollup_keep_bots(value: object) -> None:
    assert ids(LAMBDACTR_ROLLUP_KEEP_BOTS=value) == ["lambdactr_django.E402"]


def test_e402_accepts_one() -> None:
    assert ids(LAMBDACTR_ROLLUP_KEEP_BOTS=1) == []


@pytest.mark.parametrize("value", [9, 0, "30", 30.0, True, None])
def test_e403_rollup_keep_every_site(value: object) -> None:
    assert ids(LAMBDACTR_ROLLUP_KEEP_EVERY_SITE=value) == ["lambdactr_django.E403"]


def test_e403_is_never_below_rollup_keep() -> None:
    assert ids(LAMBDACTR_ROLLUP_KEEP=20, LAMBDACTR_ROLLUP_KEEP_EVERY_SITE=15) == [
        "lambdactr_django.E403"
    ]
    assert ids(LAMBDACTR_ROLLUP_KEEP=20, LAMBDACTR_ROLLUP_KEEP_EVERY_SITE=20) == []
    assert ids(LAMBDACTR_ROLLUP_KEEP_EVERY_SITE=10) == []
