from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from tests.beacon.doors import DOORS, client_for, door_settings


@pytest.fixture(params=DOORS)
def door(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each beacon test that asks for it runs through each door."""
    overridden = door_settings(request.param)
    if overridden is None:
        yield request.param
        return
    with overridden:
        yield request.param


@pytest.fixture
def beacon_client(door: str) -> Callable[..., Client]:
    """Makes test clients that reach the beacon through this test's door."""

    def make(**defaults: Any) -> Client:
        return client_for(door, **defaults)

    return make


@pytest.fixture
def client(beacon_client: Callable[..., Client]) -> Client:
    return beacon_client()
