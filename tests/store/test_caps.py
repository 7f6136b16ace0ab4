"""The spool directory is bounded in bytes, journals included, and overflow is
counted and logged once (issue 11, finding 3)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import OperationalError
from django.test import override_settings

from lambdactr_django.models import HeaderHit
from lambdactr_django.store import buffer, database, durable, replay, rows, spool
from lambdactr_django.store.rows import Record
from tests.store.test_spool import make_hit

pytestmark = pytest.mark.django_db

LINE = rows.encoded_size(rows.record_of(rows.new_row(make_hit())))
CAP = LINE * 3 + LINE // 2


@pytest.fixture
def spool_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "spool"
    with override_settings(
        LAMBDACTR_SPOOL_DIR=str(directory),
        LAMBDACTR_BUFFER_SECONDS=3600,
        LAMBDACTR_SPOOL_MAX_BYTES=CAP,
    ):
        replay.check_soon()
        yield directory
        buffer.stop()


def refuse(group: list[Record], alias: str | None = None) -> None:
    raise OperationalError("connection refused")


def test_a_full_spool_directory_does_not_drop_hits_the_database_takes(
    spool_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A spool left by an outage fills the directory while it is replayed.
    monkeypatch.setattr(buffer, "_batch_bytes", lambda: 10**9)
    spool.append([rows.new_row(make_hit("/spooled/")) for _ in range(3)])

    dropped = spool.dropped.total
    buffer.save(make_hit("/now/"))

    # Stored at once (and the write let the spool's replay in).
    assert "/now/" in HeaderHit.objects.values_list("path", flat=True)
    assert spool.dropped.total == dropped


@pytest.fixture(autouse=True)
def quiet_spell(monkeypatch: pytest.MonkeyPatch) -> None:
    # The next drop is logged at once; afterwards the clock of the log lines is
    # put back, so the lines of other tests are not held back by these.
    monkeypatch.setattr(spool.dropped, "_last_report", float("-inf"))
    spool.dropped.flush()
    spool.dropped._last_report = float("-inf")


def test_a_journal_is_bounded_by_the_spool_cap_and_overflow_logged_once(
    spool_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The flusher is not woken, and a hit the journal cannot take finds the
    # database away too: the journal grows to the cap, then hits are dropped.
    monkeypatch.setattr(buffer, "_batch_bytes", lambda: 10**9)
    monkeypatch.setattr(database, "insert_group", refuse)
    spool.dropped.flush()
    before = spool.dropped.total
    with caplog.at_level(logging.WARNING, logger="lambdactr_django"):
        for n in range(20):
            buffer.save(make_hit(f"/{n}/"))

    assert spool.directory_bytes(spool_dir) <= CAP
    assert spool.dropped.total - before == 17
    assert caplog.text.count("spool full") == 1


def test_the_durable_spool_counts_the_journals_in_its_cap(
    spool_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The flusher thread (outside the test's transaction) is not woken.
    monkeypatch.setattr(buffer, "_batch_bytes", lambda: 10**9)
    buffer.save(make_hit("/journaled-1/"))
    buffer.save(make_hit("/journaled-2/"))

    monkeypatch.setattr(database, "insert_group", refuse)
    for n in range(5):
        durable.save(make_hit(f"/spooled-{n}/"))

    assert spool.directory_bytes(spool_dir) <= CAP
    # Two journaled and one spooled: the cap is shared.
    kept = [
        line for path in spool_dir.glob("*.jsonl") for line in path.read_text().splitlines() if line
    ]
    assert len(kept) == 3
