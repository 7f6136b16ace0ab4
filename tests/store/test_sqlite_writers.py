from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection, connections

from lambdactr_django.store import sqlite_writers


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[str]:
    # A database file of its own: the tests' SQLite database lives in memory.
    alias = "writerqueue"
    name = str(tmp_path / "counter.sqlite3")
    connections.settings[alias] = {
        **connections["default"].settings_dict,
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": name,
    }
    try:
        yield alias
    finally:
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]


def held_elsewhere(path: str) -> bool:
    # Another open file stands for another worker.
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_a_writer_holds_the_lock_file_while_it_writes(sqlite_file: str) -> None:
    wrapper = connections[sqlite_file]
    lock_path = wrapper.settings_dict["NAME"] + sqlite_writers.SUFFIX

    with sqlite_writers.turn(wrapper, timeout=1.0):
        assert held_elsewhere(lock_path)
    assert not held_elsewhere(lock_path)
    assert oct(os.stat(lock_path).st_mode & 0o777) == "0o600"


def test_a_writer_waits_for_the_one_before_at_most_the_timeout(sqlite_file: str) -> None:
    wrapper = connections[sqlite_file]
    lock_path = wrapper.settings_dict["NAME"] + sqlite_writers.SUFFIX
    other = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(other, fcntl.LOCK_EX)
    try:
        started = time.monotonic()
        with sqlite_writers.turn(wrapper, timeout=0.2):
            waited = time.monotonic() - started
            # Goes ahead without the lock: SQLite's own locking still guards the file.
            assert held_elsewhere(lock_path)
    finally:
        os.close(other)
    assert waited >= 0.2


def test_nothing_to_queue_on_an_in_memory_database_or_a_server() -> None:
    if connection.vendor == "sqlite":
        assert connection.is_in_memory_db()
    assert sqlite_writers._lock_file(connection) is None
