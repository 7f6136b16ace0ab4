"""A worker's warm-up: its storage opened before its first hit, nothing stored, never a crash."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connections
from django.test import override_settings

from example_project import gunicorn_conf
from lambdactr_django.beacon import warmup
from lambdactr_django.models import HeaderHit
from lambdactr_django.store import buffer, database, replay
from tests.beacon.doors import client_for

# Not the test's transaction: the warm-up opens, rolls back and closes connections.
pytestmark = pytest.mark.django_db(transaction=True)

BROWSER = {"HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"}


@pytest.fixture
def beacon_connection() -> Iterator[Any]:
    connection = connections[database.beacon_alias()]
    # As in a worker that has just loaded the application.
    connection.close()
    if connection.connection is not None:
        # SQLite's in-memory test database lives as long as its one connection.
        pytest.skip("a connection Django never closes")
    yield connection
    connection.close()


def test_a_worker_opens_its_connection_and_stores_nothing() -> None:
    connection = connections[database.beacon_alias()]
    connection.close()

    warmup.warm_up_worker()

    assert connection.connection is not None
    assert not connection.in_atomic_block
    assert HeaderHit.objects.count() == 0


def test_a_worker_of_threads_keeps_no_connection(beacon_connection: Any) -> None:
    warmup.warm_up_worker(keep_connection=False)

    assert beacon_connection.connection is None
    assert HeaderHit.objects.count() == 0


def test_the_database_down_at_start_up_is_logged_and_the_first_hit_stored(
    beacon_connection: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    def refuse(*args: object) -> None:
        # What the driver raises when nothing listens; Django wraps it in its own.
        raise beacon_connection.Database.OperationalError("connection refused")

    monkeypatch.setattr(beacon_connection, "get_new_connection", refuse)
    with caplog.at_level(logging.WARNING, logger="lambdactr_django.beacon.warmup"):
        warmup.warm_up_worker()

    assert "could not open the beacon's storage at start-up (connection refused)" in caplog.text
    assert beacon_connection.connection is None
    # The database is back by the first hit, which connects itself.
    monkeypatch.undo()
    with override_settings(LAMBDACTR_SPOOL_DIR=str(tmp_path / "spool")):
        replay.check_soon()
        response = client_for("wsgi").get("/ctr/s.css", **BROWSER)
    assert response.status_code == 200
    assert HeaderHit.objects.count() == 1


def test_a_buffered_worker_starts_its_flusher_and_opens_its_journal(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    with override_settings(LAMBDACTR_SPOOL_DIR=str(spool), LAMBDACTR_BUFFER_SECONDS=3600):
        try:
            warmup.warm_up_worker()

            state = buffer._current()
            assert state.thread is not None
            assert state.thread.is_alive()
            assert state.journal is not None
            assert state.journal.path.parent == spool
        finally:
            buffer.stop()
    # An empty journal is deleted when the worker stops; nothing was stored.
    assert list(spool.glob(f"{buffer.JOURNAL_PREFIX}*")) == []
    assert HeaderHit.objects.count() == 0


@pytest.mark.parametrize(("threads", "kept"), [(1, True), (8, False)])
def test_the_example_warms_each_gunicorn_worker_up(
    monkeypatch: pytest.MonkeyPatch, threads: int, kept: bool
) -> None:
    calls: list[bool] = []
    monkeypatch.setattr(
        warmup, "warm_up_worker", lambda keep_connection: calls.append(keep_connection)
    )

    gunicorn_conf.post_worker_init(SimpleNamespace(cfg=SimpleNamespace(threads=threads)))

    assert calls == [kept]
