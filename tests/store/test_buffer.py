from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.test import RequestFactory, override_settings

from lambdactr_django.beacon.views import stylesheet
from lambdactr_django.models import HeaderHit
from lambdactr_django.store import buffer, durable, replay, rows, spool
from tests.store.test_spool import make_hit

pytestmark = pytest.mark.django_db


@pytest.fixture
def spool_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "spool"
    # An interval no test waits for: the tests flush themselves.
    with override_settings(LAMBDACTR_SPOOL_DIR=str(directory), LAMBDACTR_BUFFER_SECONDS=3600):
        replay.check_soon()
        yield directory
        buffer.stop()


def journals(directory: Path) -> list[Path]:
    return sorted(directory.glob(f"{buffer.JOURNAL_PREFIX}*{buffer.JOURNAL_SUFFIX}"))


def ids_in(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text().splitlines() if line.strip()]


def write_journal(directory: Path, journaled: list[HeaderHit], pid: int = 999999) -> Path:
    # What a process killed before its flush leaves behind: a journal nobody locks.
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{buffer.JOURNAL_PREFIX}{pid}-1{buffer.JOURNAL_SUFFIX}"
    # The spool's format, one JSON line per row.
    path.write_text("".join("\n" + json.dumps(rows.record_of(row)) + "\n" for row in journaled))
    return path


def test_the_beacon_answers_without_a_query_and_journals_the_hit(
    spool_dir: Path, django_assert_num_queries
) -> None:
    request = RequestFactory().get("/ctr/s.css", HTTP_REFERER="https://blog.example/a/")
    with django_assert_num_queries(0):
        response = stylesheet(request)

    assert response.status_code == 200
    assert HeaderHit.objects.count() == 0
    [journal] = journals(spool_dir)
    assert len(ids_in(journal)) == 1
    assert oct(os.stat(journal).st_mode & 0o777) == "0o600"


def test_flush_stores_the_batch_with_the_ids_and_times_made_at_capture(spool_dir: Path) -> None:
    for path in ("/a/", "/b/", "/c/"):
        buffer.save(make_hit(path))
    [journal] = journals(spool_dir)
    journaled = ids_in(journal)
    journal_records = buffer._current().journal
    assert journal_records is not None
    times = {v["id"]: dt.datetime.fromisoformat(v["created_at"]) for v in journal_records.records}

    assert buffer.flush() == 3

    rows = HeaderHit.objects.order_by("path")
    assert [row.path for row in rows] == ["/a/", "/b/", "/c/"]
    assert sorted(str(row.id) for row in rows) == sorted(journaled)
    assert {str(row.id): row.created_at for row in rows} == times
    # The segment is gone once its rows are committed; nothing is left to replay.
    assert journals(spool_dir) == []
    assert not spool.has_spooled_hits()
    assert buffer.flush() == 0


def test_hits_after_a_flush_go_to_a_fresh_journal(spool_dir: Path) -> None:
    buffer.save(make_hit("/first/"))
    [first] = journals(spool_dir)
    buffer.flush()
    buffer.save(make_hit("/second/"))

    [second] = journals(spool_dir)
    assert second != first
    assert len(ids_in(second)) == 1
    assert buffer.flush() == 1
    assert HeaderHit.objects.count() == 2


def test_stop_stores_what_is_buffered(spool_dir: Path) -> None:
    buffer.save(make_hit("/a/"))
    buffer.save(make_hit("/b/"))

    buffer.stop()

    assert HeaderHit.objects.count() == 2
    assert journals(spool_dir) == []


def test_a_batch_the_database_cannot_take_goes_to_the_spool(
    spool_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(records: list[dict[str, object]], sizes: list[int] | None = None) -> int:
        raise OperationalError("connection refused")

    buffer.save(make_hit("/a/"))
    buffer.save(make_hit("/b/"))
    [journal] = journals(spool_dir)
    journaled = ids_in(journal)
    monkeypatch.setattr(buffer, "store_batch", refuse)

    assert buffer.flush() == 0

    assert journals(spool_dir) == []
    assert spool.has_spooled_hits()
    monkeypatch.undo()
    assert replay.replay() == replay.ReplayResult(stored=2)
    assert sorted(str(pk) for pk in HeaderHit.objects.values_list("id", flat=True)) == sorted(
        journaled
    )


def test_a_dead_process_journal_is_replayed_once_even_if_partly_flushed(spool_dir: Path) -> None:
    # Killed after its flush committed but before it deleted the segment.
    flushed = rows.new_row(make_hit("/flushed/"))
    flushed.save(force_insert=True)
    orphan = write_journal(spool_dir, [flushed, rows.new_row(make_hit("/not-yet/"))])

    assert buffer.adopt_orphans() == 1

    assert not orphan.exists()
    assert replay.replay() == replay.ReplayResult(stored=1, already_stored=1)
    assert sorted(HeaderHit.objects.values_list("path", flat=True)) == ["/flushed/", "/not-yet/"]


def test_a_torn_last_line_costs_only_itself(spool_dir: Path) -> None:
    orphan = write_journal(spool_dir, [rows.new_row(make_hit("/whole/"))])
    with open(orphan, "ab") as file:
        file.write(b'{"id":"9b3c1f0e-2a4d-4e5f-8a6b-7c8d9e0f1a2b","created_at":"2026-')

    buffer.adopt_orphans()

    assert replay.replay() == replay.ReplayResult(stored=1, unreadable=1)


def test_a_live_process_journal_is_left_alone(spool_dir: Path) -> None:
    live = write_journal(spool_dir, [rows.new_row(make_hit("/live/"))], pid=os.getpid() + 1)
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        buffer.save(make_hit("/ours/"))

        assert buffer.adopt_orphans() == 0

        assert live.exists()
        assert len(journals(spool_dir)) == 2
    finally:
        os.close(fd)
    assert buffer.adopt_orphans() == 1


def test_the_batch_bound_wakes_the_flusher(
    spool_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(buffer, "MAX_BATCH", 2)
    # No thread: it would store the batch on a connection of its own.
    monkeypatch.setattr(buffer, "_start", lambda state: None)
    buffer.save(make_hit("/a/"))
    state = buffer._current()
    assert not state.wake.is_set()

    buffer.save(make_hit("/b/"))

    assert state.wake.is_set()


def test_a_hit_that_cannot_be_journaled_is_stored_at_once(
    spool_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(state: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(buffer, "_open_journal", full)

    buffer.save(make_hit("/a/"))

    assert list(HeaderHit.objects.values_list("path", flat=True)) == ["/a/"]
    assert buffer._current().journal is None


def test_without_a_spool_dir_hits_are_stored_one_by_one(tmp_path: Path) -> None:
    with override_settings(LAMBDACTR_SPOOL_DIR=None, LAMBDACTR_BUFFER_SECONDS=1.0):
        assert not buffer.enabled()
        stylesheet(RequestFactory().get("/ctr/s.css", HTTP_REFERER="https://blog.example/"))

    assert HeaderHit.objects.count() == 1


def test_a_flushed_row_is_what_a_durable_save_stores(spool_dir: Path) -> None:
    hit = dataclasses.replace(
        make_hit("/same/"),
        headers={"User-Agent": "Mozilla/5.0 test", "Accept": "text/css", "X-Quote": 'a"b\\c\t'},
        is_bot=True,
        bot_reason="user-agent",
        dnt=True,
    )
    buffer.save(hit)
    buffer.flush()
    durable.save(hit)

    buffered, direct = (
        HeaderHit.objects.filter(pk=pk).values().get()
        for pk in HeaderHit.objects.order_by("created_at").values_list("pk", flat=True)
    )
    assert buffered.pop("id") != direct.pop("id")
    assert buffered.pop("created_at") <= direct.pop("created_at")
    assert buffered == direct
    assert buffered["headers"]["X-Quote"] == 'a"b\\c\t'


def test_the_replay_command_stores_a_dead_process_journal(spool_dir: Path) -> None:
    write_journal(spool_dir, [rows.new_row(make_hit("/orphan/"))])
    out = io.StringIO()

    call_command("lambdactr_replay", stdout=out)

    assert "Replaying 1 journals left by stopped processes." in out.getvalue()
    assert list(HeaderHit.objects.values_list("path", flat=True)) == ["/orphan/"]
    assert journals(spool_dir) == []


def test_a_journal_line_is_spelled_as_a_spool_line() -> None:
    record = rows.new_record(dataclasses.replace(make_hit(), path='/caf\u00e9/\U0001f600\n"x"'))

    assert rows.line(record) == rows.lines([record])
    assert json.loads(rows.line(record)) == record


def test_a_flush_is_split_in_parts_by_the_bytes_its_lines_took(
    spool_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sizes kept at journaling are the lines' own, so the flush splits the
    # batch where it would if it encoded each record again.
    for number in range(7):
        buffer.save(make_hit(f"/page/{'x' * 40 * number}/"))
    journal = buffer._current().journal
    assert journal is not None
    [path] = journals(spool_dir)
    lines = [len(line) + 2 for line in path.read_bytes().split(b"\n") if line]
    assert journal.sizes == lines == [rows.encoded_size(v) for v in journal.records]
    monkeypatch.setattr(replay, "REPLAY_CHUNK_BYTES", sum(lines[:3]))
    parts: list[int] = []
    store_part = buffer._store_part
    monkeypatch.setattr(
        buffer, "_store_part", lambda part: parts.append(len(part)) or store_part(part)
    )

    assert buffer.flush() == 7
    assert parts == [3, 2, 2]
    assert HeaderHit.objects.count() == 7
