"""Replay that cannot wedge: batches bounded in bytes and time, bad rows set aside,
the beacon never waiting (issue 11, finding 1)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from lambdactr_django.models import HeaderHit
from lambdactr_django.store import buffer, durable, replay, rows, spool
from tests.store.test_spool import make_hit

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="statement timeouts are PostgreSQL's"
)


def quarantined_paths(directory: Path) -> list[str]:
    path = directory / spool.QUARANTINE_FILE
    if not path.exists():
        return []
    return [json.loads(line)["path"] for line in path.read_text().splitlines() if line.strip()]


def spool_with_one_refused_row(count: int) -> None:
    # A row the database refuses whatever is tried: a trigger says no. (SQLite's
    # INSERT OR IGNORE skips rows breaking NOT NULL or CHECK; not a trigger's ABORT.)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                """
                CREATE FUNCTION lambdactr_test_refuse() RETURNS trigger AS $$
                BEGIN
                    IF NEW.path = '/refused/' THEN
                        RAISE check_violation USING MESSAGE = 'no';
                    END IF;
                    RETURN NEW;
                END $$ LANGUAGE plpgsql;
                CREATE TRIGGER lambdactr_test_refuse BEFORE INSERT ON lambdactr_django_headerhit
                    FOR EACH ROW EXECUTE FUNCTION lambdactr_test_refuse();
                """
            )
        else:
            cursor.execute(
                "CREATE TRIGGER lambdactr_test_refuse BEFORE INSERT ON lambdactr_django_headerhit "
                "WHEN NEW.path = '/refused/' BEGIN SELECT RAISE(ABORT, 'no'); END"
            )
    good = [rows.new_row(make_hit(f"/good-{n}/")) for n in range(count)]
    bad = rows.new_row(make_hit("/refused/"))
    spool.append([*good[: count // 2], bad, *good[count // 2 :]])


def test_a_refused_row_is_set_aside_and_its_neighbours_stored(spool_dir: Path) -> None:
    spool_with_one_refused_row(9)

    first = replay.replay()
    second = replay.replay()

    assert first == replay.ReplayResult(stored=9, quarantined=1)
    assert second == replay.ReplayResult()
    assert HeaderHit.objects.count() == 9
    assert quarantined_paths(spool_dir) == ["/refused/"]
    assert not spool.has_spooled_hits()


def test_the_replay_command_reports_what_it_set_aside(spool_dir: Path) -> None:
    spool_with_one_refused_row(4)

    out = Output()
    call_command("lambdactr_replay", stdout=out)

    assert "Stored 4 spooled hits" in out.text
    assert f"Set aside 1 hits the database refused or could not store in time, in {spool_dir}" in (
        out.text
    )
    assert "hits replayed so far (100%)" in out.text
    again = Output()
    call_command("lambdactr_replay", "--retry-quarantined", stdout=again)
    # Still refused: back in quarantine, not lost and not retried forever.
    assert "Stored 0 spooled hits" in again.text
    assert quarantined_paths(spool_dir) == ["/refused/"]


def test_a_spool_is_replayed_in_chunks_bounded_in_bytes(
    spool_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = rows.encoded_size(rows.record_of(rows.new_row(make_hit())))
    monkeypatch.setattr(replay, "REPLAY_CHUNK_BYTES", line * 3)
    spool.append([rows.new_row(make_hit()) for _ in range(7)])
    sizes: list[int] = []
    monkeypatch.setattr(
        replay.database,
        "insert_new",
        lambda batch_rows, *, batch=False: sizes.append(len(batch_rows)) or len(batch_rows),
    )

    assert replay.replay() == replay.ReplayResult(stored=7)
    assert sizes == [3, 3, 1]


@pytest.mark.background_replay
def test_the_beacon_does_not_wait_for_the_replay(
    spool_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool.append([rows.new_row(make_hit("/spooled/"))])
    release = threading.Event()
    started = threading.Event()

    def slow_replay(**kwargs: object) -> replay.ReplayResult:
        started.set()
        release.wait(5)
        return replay.ReplayResult()

    monkeypatch.setattr(replay, "replay", slow_replay)
    begun = time.monotonic()
    durable.save(make_hit("/after/"))
    took = time.monotonic() - begun
    assert started.wait(5)
    release.set()
    assert replay._background is not None
    replay._background.join(5)

    assert took < 1.0, f"the beacon waited {took:.1f}s for the replay"
    assert HeaderHit.objects.filter(path="/after/").count() == 1


def slow_trigger(condition: str, seconds: float) -> None:
    # A row that takes long to insert, as a fat one on a busy server does.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            CREATE FUNCTION lambdactr_test_slow() RETURNS trigger AS $$
            BEGIN
                IF {condition} THEN PERFORM pg_sleep({seconds}); END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER lambdactr_test_slow BEFORE INSERT ON lambdactr_django_headerhit
                FOR EACH ROW EXECUTE FUNCTION lambdactr_test_slow();
            """
        )


@postgres_only
@override_settings(LAMBDACTR_DB_TIMEOUT=0.2, LAMBDACTR_REPLAY_TIMEOUT=5)
def test_a_batch_slower_than_the_beacons_timeout_is_still_replayed(spool_dir: Path) -> None:
    # 40 rows of 20 ms: 0.8 s, beyond the beacon's 0.2 s, within the replay's 5 s.
    slow_trigger("TRUE", 0.02)
    spool.append([rows.new_row(make_hit(f"/{n}/")) for n in range(40)])

    assert replay.replay() == replay.ReplayResult(stored=40)


@postgres_only
@override_settings(LAMBDACTR_DB_TIMEOUT=0.1, LAMBDACTR_REPLAY_TIMEOUT=0.3)
def test_a_row_too_slow_even_alone_is_set_aside_not_taken_for_an_outage(
    spool_dir: Path,
) -> None:
    slow_trigger("NEW.path = '/slow/'", 1)
    spool.append([rows.new_row(make_hit(f"/{n}/")) for n in range(15)])
    spool.append([rows.new_row(make_hit("/slow/"))])

    result = replay.replay()

    assert result == replay.ReplayResult(stored=15, quarantined=1)
    assert quarantined_paths(spool_dir) == ["/slow/"]


@postgres_only
@override_settings(
    LAMBDACTR_DB_TIMEOUT=0.1, LAMBDACTR_REPLAY_TIMEOUT=0.3, LAMBDACTR_BUFFER_SECONDS=3600
)
def test_a_flush_whose_copy_times_out_goes_to_the_spool_and_is_replayed(
    spool_dir: Path,
) -> None:
    # psycopg's own error from COPY, which Django does not wrap, escaped here.
    slow_trigger("NEW.path = '/slow/'", 1)
    try:
        for n in range(10):
            buffer.save(make_hit(f"/{n}/"))
        buffer.save(make_hit("/slow/"))

        assert buffer.flush() == 0
        assert spool.has_spooled_hits()
    finally:
        buffer.stop()

    assert replay.replay() == replay.ReplayResult(stored=10, quarantined=1)
    assert quarantined_paths(spool_dir) == ["/slow/"]


class Output:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass
