from __future__ import annotations

import fcntl
import json
import logging
import os
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext

from lambdactr_django.beacon.capture import capture
from lambdactr_django.beacon.views import stylesheet
from lambdactr_django.eventcount import EventCount
from lambdactr_django.hits import Hit
from lambdactr_django.models import HeaderHit
from lambdactr_django.store import database, durable, replay, rows, spool
from lambdactr_django.store.rows import Record

pytestmark = pytest.mark.django_db


def make_hit(path: str = "/post/") -> Hit:
    return Hit(
        site="blog.example",
        path=path,
        referrer="https://search.example/",
        user_agent="Mozilla/5.0 test",
        verified=True,
        headers={"User-Agent": "Mozilla/5.0 test", "Accept": "text/css"},
    )


@pytest.fixture
def spool_dir(tmp_path: Path):
    directory = tmp_path / "spool"
    with override_settings(LAMBDACTR_SPOOL_DIR=str(directory)):
        replay.check_soon()
        yield directory


@pytest.fixture
def database_down(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(group: list[Record], alias: str | None = None) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(database, "insert_group", refuse)


def spooled_ids(directory: Path) -> list[str]:
    ids = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                ids.append(json.loads(line)["id"])
    return ids


def test_save_stores_a_row_and_spools_nothing(spool_dir: Path) -> None:
    durable.save(make_hit())

    row = HeaderHit.objects.get()
    assert (row.site, row.path, row.verified) == ("blog.example", "/post/", True)
    assert spooled_ids(spool_dir) == []


def test_save_spools_the_hit_while_the_database_is_down(
    spool_dir: Path, database_down: None
) -> None:
    durable.save(make_hit("/a/"))
    durable.save(make_hit("/b/"))

    assert HeaderHit.objects.count() == 0
    assert len(spooled_ids(spool_dir)) == 2
    assert oct(os.stat(spool_dir / spool.SPOOL_FILE).st_mode & 0o777) == "0o600"


def test_replay_stores_spooled_hits_with_their_own_id_and_time(
    spool_dir: Path, monkeypatch: pytest.MonkeyPatch, database_down: None
) -> None:
    durable.save(make_hit("/a/"))
    [spooled_id] = spooled_ids(spool_dir)
    monkeypatch.undo()

    result = replay.replay()

    assert result == replay.ReplayResult(stored=1)
    row = HeaderHit.objects.get()
    assert str(row.id) == spooled_id
    assert (row.path, row.referrer, row.headers["Accept"]) == (
        "/a/",
        "https://search.example/",
        "text/css",
    )
    assert spooled_ids(spool_dir) == []


def test_replay_stores_each_hit_once_when_it_was_stored_already(spool_dir: Path) -> None:
    # A commit whose acknowledgement was lost: the hit is in the database and spooled.
    committed = rows.new_row(make_hit("/committed/"))
    committed.save(force_insert=True)
    spool.append([committed, rows.new_row(make_hit("/new/"))])

    first = replay.replay()
    spool.append([committed])
    second = replay.replay()

    assert first == replay.ReplayResult(stored=1, already_stored=1)
    assert second == replay.ReplayResult(already_stored=1)
    assert sorted(HeaderHit.objects.values_list("path", flat=True)) == ["/committed/", "/new/"]


def test_replay_skips_and_counts_a_torn_line(
    spool_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool.append([rows.new_row(make_hit("/before/"))])
    # A crash in the middle of a write leaves half a line behind...
    with open(spool_dir / spool.SPOOL_FILE, "ab") as file:
        file.write(b'{"id":"9b3c1f0e-2a4d-4e5f-8a6b-7c8d9e0f1a2b","created_at":"2026-')
    # ...and the next write still lands on a line of its own.
    spool.append([rows.new_row(make_hit("/after/"))])

    with caplog.at_level(logging.ERROR, logger="lambdactr_django"):
        result = replay.replay()

    assert result == replay.ReplayResult(stored=2, unreadable=1)
    assert sorted(HeaderHit.objects.values_list("path", flat=True)) == ["/after/", "/before/"]
    assert "skipped 1 unreadable spool lines" in caplog.text


def test_replay_finishes_a_batch_left_by_an_interrupted_replay(spool_dir: Path) -> None:
    spool.append([rows.new_row(make_hit("/old/"))])
    os.rename(spool_dir / spool.SPOOL_FILE, spool_dir / f"{spool.BATCH_PREFIX}1.jsonl")
    spool.append([rows.new_row(make_hit("/new/"))])

    result = replay.replay()

    assert result == replay.ReplayResult(stored=2)
    assert list(spool_dir.glob("*.jsonl")) == []


def test_replay_keeps_the_spool_while_the_database_is_down(
    spool_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool.append([rows.new_row(make_hit())])

    def refuse(rows: list[HeaderHit], *, batch: bool = False) -> int:
        raise OperationalError("connection refused")

    monkeypatch.setattr(database, "insert_new", refuse)
    with pytest.raises(OperationalError):
        replay.replay()

    assert len(spooled_ids(spool_dir)) == 1


def test_replay_waits_its_turn_when_another_process_replays(spool_dir: Path) -> None:
    spool.append([rows.new_row(make_hit())])
    lock = os.open(spool_dir / spool.LOCK_FILE, os.O_RDWR | os.O_CREAT)
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        assert replay.replay() is None
    finally:
        os.close(lock)
    assert HeaderHit.objects.count() == 0
    assert replay.replay() == replay.ReplayResult(stored=1)


def test_a_successful_write_replays_the_spool(
    spool_dir: Path, monkeypatch: pytest.MonkeyPatch, database_down: None
) -> None:
    durable.save(make_hit("/while-down/"))
    monkeypatch.undo()

    durable.save(make_hit("/after/"))

    assert sorted(HeaderHit.objects.values_list("path", flat=True)) == ["/after/", "/while-down/"]
    assert spooled_ids(spool_dir) == []


def test_a_successful_write_checks_the_spool_at_most_every_few_seconds(
    spool_dir: Path,
) -> None:
    durable.save(make_hit("/first/"))
    spool.append([rows.new_row(make_hit("/spooled/"))])

    durable.save(make_hit("/second/"))

    # Within REPLAY_CHECK_SECONDS of the last look: the spool waits.
    assert len(spooled_ids(spool_dir)) == 1


def test_the_spool_is_bounded_and_drops_are_logged(
    spool_dir: Path, database_down: None, caplog: pytest.LogCaptureFixture
) -> None:
    line = len(json.dumps(rows.record_of(rows.new_row(make_hit())), separators=(",", ":"))) + 2
    with (
        override_settings(LAMBDACTR_SPOOL_MAX_BYTES=line * 3 + line // 2),
        caplog.at_level(logging.ERROR, logger="lambdactr_django"),
    ):
        before = spool.dropped.total
        for _ in range(5):
            durable.save(make_hit())

    assert len(spooled_ids(spool_dir)) == 3
    assert spool.spool_size(spool_dir) <= line * 3 + line // 2
    assert spool.dropped.total - before == 2
    assert "spool full (LAMBDACTR_SPOOL_MAX_BYTES), dropped" in caplog.text


def test_without_a_spool_a_lost_hit_is_logged(
    database_down: None, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A count of its own: the first loss after a quiet spell is logged at once,
    # whatever earlier tests lost.
    monkeypatch.setattr(spool, "lost", EventCount(spool.lost.message, level=spool.lost.level))
    with (
        override_settings(LAMBDACTR_SPOOL_DIR=None),
        caplog.at_level(logging.ERROR, logger="lambdactr_django"),
    ):
        durable.save(make_hit())

    assert "could not store or spool 1 hits (1 since start)" in caplog.text


def test_a_spooled_row_matches_a_directly_stored_one(spool_dir: Path) -> None:
    hit = capture(RequestFactory().get("/ctr/s.css", HTTP_REFERER="https://blog.example/p/"))
    values = rows.new_values(hit)
    database.insert(values)
    spool.append([rows.new_row(hit)])
    replay.replay()

    direct = HeaderHit.objects.get(id=values["id"])
    replayed = HeaderHit.objects.exclude(id=direct.id).get()
    columns = [f.attname for f in HeaderHit._meta.concrete_fields if f.attname != "id"]
    columns.remove("created_at")
    assert {c: getattr(replayed, c) for c in columns} == {c: getattr(direct, c) for c in columns}


def test_the_beacon_answers_normally_while_the_database_is_down(
    spool_dir: Path, database_down: None
) -> None:
    response = stylesheet(RequestFactory().get("/ctr/s.css", HTTP_REFERER="https://b.example/"))

    assert response.status_code == 200
    assert response.content == b""
    assert len(spooled_ids(spool_dir)) == 1


def test_the_beacon_costs_one_insert(spool_dir: Path) -> None:
    with CaptureQueriesContext(connection) as queries:
        stylesheet(RequestFactory().get("/ctr/s.css"))

    # Savepoints come from the test's own transaction.
    statements = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 1
    insert = 'INSERT INTO "lambdactr_django_headerhit"'
    if connection.vendor == "postgresql":
        # The statement timeout goes in the same round trip.
        assert statements[0].startswith(f"SET LOCAL statement_timeout = 2000; {insert}")
    else:
        assert statements[0].startswith(insert)


def test_replay_command_stores_the_spool_once(spool_dir: Path) -> None:
    spool.append([rows.new_row(make_hit(f"/{n}/")) for n in range(3)])

    call_command("lambdactr_replay", stdout=(out := _Output()))
    call_command("lambdactr_replay", stdout=(again := _Output()))

    assert "Stored 3 spooled hits; 0 were already stored" in out.text
    assert "Stored 0 spooled hits" in again.text
    assert HeaderHit.objects.count() == 3


def test_replay_command_fails_and_keeps_the_spool_while_the_database_is_down(
    spool_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool.append([rows.new_row(make_hit())])

    def refuse(rows: list[HeaderHit], *, batch: bool = False) -> int:
        raise OperationalError("connection refused")

    monkeypatch.setattr(database, "insert_new", refuse)
    with pytest.raises(CommandError, match="still unavailable"):
        call_command("lambdactr_replay")
    assert len(spooled_ids(spool_dir)) == 1


def test_replay_command_without_a_spool_dir_says_so() -> None:
    with override_settings(LAMBDACTR_SPOOL_DIR=None), pytest.raises(CommandError, match="not set"):
        call_command("lambdactr_replay")


class _Output:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass
