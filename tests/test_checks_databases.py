from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from lambdactr_django.checks import check_settings
from lambdactr_django.store import database

ROUTER = "lambdactr_django.routers.CounterRouter"


def ids(**settings: Any) -> list[str]:
    with override_settings(**settings):
        return [message.id for message in check_settings() if message.id]


def test_a_counter_database_with_the_router_passes() -> None:
    assert ids(LAMBDACTR_DATABASE="counter", DATABASE_ROUTERS=[ROUTER]) == []


def test_a_beacon_database_passes() -> None:
    assert ids(LAMBDACTR_BEACON_DATABASE="counter") == []


@pytest.mark.parametrize("value", ["nope", "", 1, ["counter"]])
def test_e201_database_not_an_alias(value: object) -> None:
    assert ids(LAMBDACTR_DATABASE=value, DATABASE_ROUTERS=[ROUTER]) == ["lambdactr_django.E201"]


@pytest.mark.parametrize("value", ["nope", "", 1])
def test_e202_beacon_database_not_an_alias(value: object) -> None:
    assert ids(LAMBDACTR_BEACON_DATABASE=value) == ["lambdactr_django.E202"]


def test_w202_the_old_name_still_works_and_asks_to_be_renamed() -> None:
    assert ids(LAMBDACTR_WRITE_DATABASE="counter") == ["lambdactr_django.W202"]
    with override_settings(LAMBDACTR_WRITE_DATABASE="counter"):
        assert database.beacon_alias() == "counter"


def test_w202_the_old_name_is_checked_as_an_alias_too() -> None:
    assert ids(LAMBDACTR_WRITE_DATABASE="nope") == [
        "lambdactr_django.E202",
        "lambdactr_django.W202",
    ]


def test_the_new_name_wins_over_the_old_one() -> None:
    with override_settings(LAMBDACTR_BEACON_DATABASE="default", LAMBDACTR_WRITE_DATABASE="counter"):
        assert database.beacon_alias() == "default"
        assert [message.id for message in check_settings()] == []


def test_w201_database_without_the_router() -> None:
    assert ids(LAMBDACTR_DATABASE="counter") == ["lambdactr_django.W201"]


class _ProjectRouter:
    # A project's own router that already sends the counter's hits to "counter".
    def db_for_read(self, model: Any, **hints: Any) -> str:
        return "counter"

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return "counter"

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == "counter"


def test_w201_quiet_with_a_router_that_routes_there() -> None:
    router = f"{__name__}._ProjectRouter"
    assert ids(LAMBDACTR_DATABASE="counter", DATABASE_ROUTERS=[router]) == []


def test_w201_for_a_router_that_does_not_migrate_there() -> None:
    router = f"{__name__}._ProjectRouter"
    assert ids(LAMBDACTR_DATABASE="default", DATABASE_ROUTERS=[router]) == ["lambdactr_django.W201"]


def test_w201_quiet_when_the_database_is_the_default() -> None:
    # Django's default routing already sends everything to "default".
    assert ids(LAMBDACTR_DATABASE="default") == []
