"""Fixtures shared by the load and fault tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import server


@pytest.fixture(scope="module")
def cluster() -> Iterator[server.Cluster]:
    """A throwaway PostgreSQL cluster of the module's own, stopped and started by its tests."""
    running = server.Cluster().init()
    try:
        yield running
    finally:
        running.destroy()
