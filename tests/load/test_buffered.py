"""Buffered mode under load: every 2xx is exactly one stored row, whatever stops a worker.

gunicorn serves the beacon with LAMBDACTR_BUFFER_SECONDS set; wrk sends a
fixed number of requests. A worker is killed with SIGKILL halfway (its journal
is replayed), the server is reloaded (SIGHUP), recycled (--max-requests) or
stopped (SIGTERM) with hits still buffered: none may be lost or stored twice.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import server, traffic
from tests.load.test_load import FAULT_REQUESTS, WORKERS, report, when_rows_reach, wrk

pytestmark = [
    pytest.mark.load,
    pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed"),
]

# Long enough that a run ends with hits still buffered in every worker (the
# batch bound flushes before it), short enough to see rows while wrk runs.
INTERVAL = "2"
ADOPTED = "journals left by stopped processes"


@pytest.fixture
def database() -> Iterator[str]:
    with server.scratch_database("lambdactr_buffered") as url:
        yield url


@pytest.fixture
def spool_dir() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="lambdactr-buffered-spool-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def start(database: str, spool_dir: Path, interval: str = INTERVAL, **kwargs: object):
    env = server.server_env(
        database, spool_dir, LAMBDACTR_RATE_LIMIT="0", LAMBDACTR_BUFFER_SECONDS=interval
    )
    migrated = server.manage(env, "migrate", "--verbosity", "0")
    assert migrated.returncode == 0, migrated.stderr
    running = server.Gunicorn(env, workers=WORKERS, **kwargs).start()  # type: ignore[arg-type]
    assert server.get(running.url + "/")[0] == 404
    return running


def finish(
    running: server.Gunicorn, database: str, spool_dir: Path, stop: int = signal.SIGTERM
) -> int:
    """Stop gracefully, replay what the spool holds; the rows stored."""
    assert running.process is not None
    running.process.send_signal(stop)
    try:
        running.process.wait(30)
    finally:
        running.stop()  # Kills it if it did not stop by itself.
    assert running.process.returncode == 0
    replayed = server.manage(running.env, "lambdactr_replay")
    assert replayed.returncode == 0, replayed.stderr
    # Every journal was flushed or replayed; only the replay's lock file stays.
    assert [p.name for p in spool_dir.iterdir()] in ([], ["replay.lock"])
    traffic.scan_rows("buffered load rows", server.stored_rows(database))
    return server.count_rows(database)


def test_a_killed_worker_loses_nothing(database: str, spool_dir: Path) -> None:
    running = start(database, spool_dir)
    killed: list[int] = []

    def kill_one_worker() -> None:
        killed.append(running.worker_pids()[0])
        os.kill(killed[0], signal.SIGKILL)

    try:
        kill = when_rows_reach(database, FAULT_REQUESTS // 3, kill_one_worker)
        run = wrk(running.url, FAULT_REQUESTS)
        kill.join(5)
    finally:
        rows = finish(running, database, spool_dir)
    report("buffered KILL", run, rows)

    assert killed
    # The killed worker's journal held hits it had answered 2xx and not flushed.
    assert ADOPTED in running.log_text()
    assert (run.ok, run.bad, run.server_errors) == (FAULT_REQUESTS, 0, 0)
    # Killed after journaling its request in flight, that hit is stored though
    # its client saw the connection drop; killed before, it is not.
    assert run.socket_errors <= 1
    assert run.ok <= rows <= run.ok + run.socket_errors


@pytest.mark.parametrize(
    ("threads", "stop"),
    [(1, signal.SIGTERM), (3, signal.SIGTERM), (1, signal.SIGQUIT)],
    ids=["sync-TERM", "gthread-TERM", "sync-QUIT"],
)
def test_a_graceful_stop_stores_what_is_buffered(
    database: str, spool_dir: Path, threads: int, stop: signal.Signals
) -> None:
    # An interval no run reaches: only the batch bound and the exit flush store.
    running = start(database, spool_dir, interval="60", threads=threads)
    try:
        run = wrk(running.url, FAULT_REQUESTS)
        before = server.count_rows(database)
    finally:
        rows = finish(running, database, spool_dir, stop)
    report(f"buffered {stop.name} ({threads} threads)", run, rows)

    assert before < run.ok, "nothing was left buffered: the test would prove nothing"
    assert (run.ok, run.bad, run.server_errors, run.socket_errors) == (FAULT_REQUESTS, 0, 0, 0)
    assert rows == FAULT_REQUESTS
    assert ADOPTED not in running.log_text()


def test_a_reload_and_recycled_workers_lose_nothing(database: str, spool_dir: Path) -> None:
    running = start(database, spool_dir, interval="60", args=["--max-requests", "1500"])
    assert running.process is not None
    before = set(running.worker_pids())
    try:
        reload = when_rows_reach(
            database, FAULT_REQUESTS // 3, lambda: running.process.send_signal(signal.SIGHUP)
        )
        run = wrk(running.url, FAULT_REQUESTS)
        reload.join(5)
        replaced = not before & set(running.worker_pids())
    finally:
        rows = finish(running, database, spool_dir)
    report("buffered HUP + --max-requests", run, rows)

    assert replaced, "the workers were not replaced"
    assert (run.ok, run.bad, run.server_errors, run.socket_errors) == (FAULT_REQUESTS, 0, 0, 0)
    assert rows == FAULT_REQUESTS
    assert ADOPTED not in running.log_text()
