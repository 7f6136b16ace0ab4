"""Load with nothing lost: every 2xx the load generator saw is exactly one stored row.

gunicorn (sync workers) serves the beacon from a scratch database on the local
PostgreSQL server; wrk sends a fixed number of requests over loopback. Repeated
with a graceful reload (HUP) and with one worker killed (KILL) halfway.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import server, traffic

pytestmark = [
    pytest.mark.load,
    pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed"),
]


def _rounded(requests: str) -> int:
    return -(-int(requests) // CONNECTIONS) * CONNECTIONS


CONNECTIONS = 3
# A wrk thread that has sent its share stops with a fresh connection open and
# no request on it, which holds one sync worker until wrk exits: with fewer
# workers than connections the last threads would starve.
WORKERS = CONNECTIONS
# A bound on each run, far above what 50,000 requests take here.
MAX_SECONDS = 240
LUA = Path(__file__).with_name("count.lua")
REQUESTS = _rounded(os.environ.get("LAMBDACTR_LOAD_REQUESTS", "50000"))
FAULT_REQUESTS = _rounded(os.environ.get("LAMBDACTR_LOAD_FAULT_REQUESTS", "15000"))


@dataclass
class Run:
    ok: int
    bad: int
    server_errors: int
    socket_errors: int
    seconds: float
    output: str


@pytest.fixture
def database() -> Iterator[str]:
    with server.scratch_database("lambdactr_load") as url:
        yield url


@pytest.fixture
def gunicorn(database: str) -> Iterator[server.Gunicorn]:
    spool_dir = Path(tempfile.mkdtemp(prefix="lambdactr-load-spool-"))
    # The rate limit is off here: one client sends everything. It is tested on its own.
    env = server.server_env(database, spool_dir, LAMBDACTR_RATE_LIMIT="0")
    migrated = server.manage(env, "migrate", "--verbosity", "0")
    assert migrated.returncode == 0, migrated.stderr
    with server.Gunicorn(env, workers=WORKERS) as running:
        # The master listens before its workers have loaded Django.
        assert server.get(running.url + "/")[0] == 404
        yield running
    assert list(spool_dir.iterdir()) in ([], [spool_dir / "replay.lock"])
    traffic.scan_rows("load test rows", server.stored_rows(database))


def wrk(url: str, requests: int) -> Run:
    """Send exactly ``requests`` beacon requests (rounded up to a multiple of CONNECTIONS)."""
    headers = [
        "Host: counter.example",
        "Referer: https://blog.example/posts/load/?utm_source=wrk&session=private",
        "User-Agent: lambdactr-load-test",
        *(f"{name}: {value}" for name, value in traffic.SECRET_HEADERS.items()),
    ]
    command = [
        "wrk",
        f"--threads={CONNECTIONS}",
        f"--connections={CONNECTIONS}",
        f"--duration={MAX_SECONDS}s",
        "--timeout=10s",
        "--latency",
        f"--script={LUA}",
        *(arg for header in headers for arg in ("--header", header)),
        url + "/ctr/s.css",
    ]
    done_dir = Path(tempfile.mkdtemp(prefix="lambdactr-wrk-"))
    env = {
        **os.environ,
        "LAMBDACTR_PER_THREAD": str(-(-requests // CONNECTIONS)),
        "LAMBDACTR_DONE_DIR": str(done_dir),
    }
    started = time.monotonic()
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) as process:
        deadline = started + MAX_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            if len(list(done_dir.iterdir())) == CONNECTIONS:
                # wrk prints its summary and the script's counts on SIGINT.
                process.send_signal(signal.SIGINT)
                break
            time.sleep(0.05)
        output, _ = process.communicate(timeout=30)
    shutil.rmtree(done_dir, ignore_errors=True)
    seconds = time.monotonic() - started
    counts = re.search(r"LAMBDACTR ok=(\d+) bad=(\d+) server_errors=(\d+)", output)
    assert counts, output
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return Run(
        ok=int(counts[1]),
        bad=int(counts[2]),
        server_errors=int(counts[3]),
        socket_errors=sum(map(int, socket_errors.groups())) if socket_errors else 0,
        seconds=seconds,
        output=output,
    )


def when_rows_reach(database: str, rows: int, action: Callable[[], object]) -> threading.Thread:
    def wait_then_act() -> None:
        deadline = time.monotonic() + MAX_SECONDS
        while time.monotonic() < deadline and server.count_rows(database) < rows:
            time.sleep(0.2)
        action()

    thread = threading.Thread(target=wait_then_act, daemon=True)
    thread.start()
    return thread


def report(name: str, run: Run, rows: int) -> None:
    print(
        f"\n{name}: {run.ok + run.bad + run.socket_errors} requests in {run.seconds:.1f}s "
        f"({(run.ok + run.bad) / run.seconds:.0f}/s): {run.ok} 2xx, {run.bad} other, "
        f"{run.server_errors} 5xx, {run.socket_errors} socket errors; {rows} rows stored"
    )


def test_every_2xx_is_exactly_one_row(gunicorn: server.Gunicorn, database: str) -> None:
    run = wrk(gunicorn.url, REQUESTS)
    rows = server.count_rows(database)
    report("steady", run, rows)

    assert (run.ok, run.bad, run.server_errors, run.socket_errors) == (REQUESTS, 0, 0, 0)
    assert rows == REQUESTS
    statuses = gunicorn.statuses()
    assert len(statuses) == REQUESTS
    assert set(statuses) == {200}


def test_a_graceful_reload_loses_nothing(gunicorn: server.Gunicorn, database: str) -> None:
    before = set(gunicorn.worker_pids())
    assert gunicorn.process is not None
    reload = when_rows_reach(
        database, FAULT_REQUESTS // 3, lambda: gunicorn.process.send_signal(signal.SIGHUP)
    )

    run = wrk(gunicorn.url, FAULT_REQUESTS)
    reload.join(5)
    rows = server.count_rows(database)
    report("HUP", run, rows)

    assert not before & set(gunicorn.worker_pids()), "the workers were not replaced"
    assert (run.ok, run.bad, run.server_errors, run.socket_errors) == (FAULT_REQUESTS, 0, 0, 0)
    assert rows == FAULT_REQUESTS
    assert 500 not in {status // 100 * 100 for status in gunicorn.statuses()}


def test_a_killed_worker_loses_at_most_its_request_in_flight(
    gunicorn: server.Gunicorn, database: str
) -> None:
    killed: list[int] = []

    def kill_one_worker() -> None:
        killed.append(gunicorn.worker_pids()[0])
        os.kill(killed[0], signal.SIGKILL)

    kill = when_rows_reach(database, FAULT_REQUESTS // 3, kill_one_worker)
    run = wrk(gunicorn.url, FAULT_REQUESTS)
    kill.join(5)
    rows = server.count_rows(database)
    report("KILL", run, rows)

    assert killed
    assert killed[0] not in gunicorn.worker_pids()
    assert (run.ok, run.bad, run.server_errors) == (FAULT_REQUESTS, 0, 0)
    # A sync worker holds one request: killed after its commit, that hit is stored
    # though its client saw the connection drop; killed before, it is not stored.
    assert run.socket_errors <= 1
    assert run.ok <= rows <= run.ok + run.socket_errors
