"""The store's fixtures: a stream of the test's own on the Redis here."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from lambdactr_django.store import consumer, ingest, replay

# A database of the broker tests' own on the machine's Redis: flushed by nobody.
URL = os.environ.get("LAMBDACTR_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


@pytest.fixture
def spool_dir(tmp_path: Path) -> Iterator[Path]:
    """A spool directory of the test's own, looked at by the next replay check."""
    directory = tmp_path / "spool"
    with override_settings(LAMBDACTR_SPOOL_DIR=str(directory)):
        replay.check_soon()
        yield directory


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Any]:
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {URL}")
    # A stream of this test's own: other runs may share the database.
    stream = f"lambdactr-test:{os.getpid()}:{time.time_ns()}"
    with override_settings(
        LAMBDACTR_INGEST_URL=URL,
        LAMBDACTR_INGEST_STREAM=stream,
        LAMBDACTR_INGEST_CLAIM_SECONDS=0.05,
        LAMBDACTR_SPOOL_DIR=str(tmp_path / "spool"),
    ):
        ingest.reset()
        replay.check_soon()
        yield client
        ingest.reset()
    client.delete(stream, stream + consumer.REFUSED_SUFFIX)
    client.close()
