"""Spool and journal writes are checked: a short write, a full disk, a directory
that cannot be written (issue 11, findings 8 and 9)."""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import OperationalError, connections
from django.test import override_settings

from lambdactr_django.models import HeaderHit
from lambdactr_django.store import buffer, database, durable, replay, spool
from lambdactr_django.store.rows import Record
from tests.store.test_spool import make_hit

pytestmark = pytest.mark.django_db


@pytest.fixture
def spool_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    directory = tmp_path / "spool"
    directory.mkdir()
    # Each test sees its own first failure logged.
    monkeypatch.setattr(spool, "_logged_failures", {}, raising=False)
    with override_settings(LAMBDACTR_SPOOL_DIR=str(directory)):
        replay.check_soon()
        yield directory


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[str]:
    # A database file of its own, whatever DATABASE_URL says: the tests' SQLite
    # database lives in memory, where nothing else can lock it.
    alias = "busyfile"
    connections.settings[alias] = {
        **connections["default"].settings_dict,
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(tmp_path / "counter.sqlite3"),
        "OPTIONS": {},
    }
    try:
        yield alias
    finally:
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]


@pytest.fixture
def database_down(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(group: list[Record], alias: str | None = None) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(database, "insert_group", refuse)


def short_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.write
    monkeypatch.setattr(spool.os, "write", lambda fd, data: real(fd, data[: len(data) // 2]))


def test_a_short_write_is_counted_lost_not_spooled(
    spool_dir: Path, database_down: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    spooled, lost = spool.spooled.total, spool.lost.total
    short_writes(monkeypatch)

    durable.save(make_hit())

    assert (spool.spooled.total - spooled, spool.lost.total - lost) == (0, 1)
    monkeypatch.undo()
    assert replay.replay() == replay.ReplayResult(unreadable=1)


def test_a_full_disk_costs_one_log_line_not_a_traceback_per_hit(
    spool_dir: Path, database_down: None, caplog: pytest.LogCaptureFixture
) -> None:
    # Every write to /dev/full fails with ENOSPC, as on a full disk.
    (spool_dir / spool.SPOOL_FILE).symlink_to("/dev/full")
    lost = spool.lost.total
    with caplog.at_level(logging.WARNING, logger="lambdactr_django"):
        for _ in range(50):
            durable.save(make_hit())

    assert spool.lost.total - lost == 50
    lines = [r for r in caplog.records if "cannot write to the spool directory" in r.message]
    assert len(lines) == 1
    assert "No space left on device" in lines[0].message
    assert not any(r.exc_info for r in caplog.records)


@override_settings(LAMBDACTR_BUFFER_SECONDS=3600)
def test_a_journal_that_cannot_be_written_stores_the_hit_at_once(
    spool_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    short_writes(monkeypatch)
    try:
        buffer.save(make_hit("/now/"))
        # Before any flush: a half-written journal line is no place to keep it.
        stored = list(HeaderHit.objects.values_list("path", flat=True))
    finally:
        monkeypatch.undo()
        buffer.stop()

    assert stored == ["/now/"]
    assert HeaderHit.objects.count() == 1


def test_sqlites_busy_wait_is_bounded_by_the_db_timeout(
    sqlite_file: str,
    spool_dir: Path,
    django_db_blocker: pytest.FixtureRequest,
) -> None:
    with (
        django_db_blocker.unblock(),  # type: ignore[attr-defined]
        override_settings(LAMBDACTR_BEACON_DATABASE=sqlite_file, LAMBDACTR_DB_TIMEOUT=0.3),
    ):
        with connections[sqlite_file].schema_editor() as editor:
            editor.create_model(HeaderHit)
        # Another process holds the write lock for longer than the timeout.
        locker = sqlite3.connect(connections[sqlite_file].settings_dict["NAME"])
        locker.execute("BEGIN EXCLUSIVE")
        try:
            started = time.monotonic()
            durable.save(make_hit("/while-locked/"))
            took = time.monotonic() - started
        finally:
            locker.rollback()
            locker.close()
        spooled = (spool_dir / spool.SPOOL_FILE).read_text()

    # SQLite's own busy wait is 5 s unless OPTIONS "timeout" says otherwise.
    print(f"\nlocked SQLite, LAMBDACTR_DB_TIMEOUT=0.3: the beacon answered in {took:.2f}s")
    assert took < 1.0, f"the beacon waited {took:.1f}s"
    assert "/while-locked/" in spooled
