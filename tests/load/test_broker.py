"""Broker mode under load: every 2xx is exactly one stored row, whatever stops a part.

gunicorn serves the beacon with LAMBDACTR_INGEST_URL pointing at a redis-server
of the test's own; lambdactr_ingest runs beside it as a process of its own; wrk
sends a fixed number of requests. Halfway, the consumer is SIGKILLed and
restarted, or Redis is SIGKILLed and restarted (the beacon spools meanwhile),
or the database is stopped and started (the broker keeps accepting). In each
case the rows stored equal the 2xx wrk counted, and no key is stored twice.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lambdactr_django.conf import Settings
from lambdactr_django.store.consumer import GROUP
from tests import server, traffic
from tests.load.test_load import WORKERS, Run, _rounded, report, when_rows_reach, wrk

pytestmark = [
    pytest.mark.load,
    pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed"),
    pytest.mark.skipif(server.REDIS_SERVER is None, reason="redis-server is not installed"),
]

REQUESTS = _rounded(os.environ.get("LAMBDACTR_LOAD_BROKER_REQUESTS", "4500"))
# Short, so that the restarted consumer claims the dead one's entries soon.
CLAIM_SECONDS = "1"
# What the stream and the spool hold once wrk is done is stored within this.
DRAIN_SECONDS = 30.0
STREAM = Settings().INGEST_STREAM


@pytest.fixture
def redis() -> Iterator[server.Redis]:
    running = server.Redis().start()
    yield running
    running.destroy()


@pytest.fixture
def spool_dir() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="lambdactr-broker-spool-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


class Consumer:
    """``lambdactr_ingest`` as a process of its own."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Consumer:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "django", "lambdactr_ingest", "--batch-size", "500"],
                env=self.env,
                cwd=server.ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return self

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def start(database: str, spool_dir: Path, redis: server.Redis) -> tuple[server.Gunicorn, Consumer]:
    env = server.server_env(
        database,
        spool_dir,
        LAMBDACTR_RATE_LIMIT="0",
        LAMBDACTR_INGEST_URL=redis.url(),
        LAMBDACTR_INGEST_CLAIM_SECONDS=CLAIM_SECONDS,
        LAMBDACTR_DB_TIMEOUT="1",
    )
    migrated = server.manage(env, "migrate", "--verbosity", "0")
    assert migrated.returncode == 0, migrated.stderr
    running = server.Gunicorn(env, workers=WORKERS).start()
    assert server.get(running.url + "/")[0] == 404
    reader = Consumer(env, running.log_dir / "ingest.log").start()
    return running, reader


def finish(running: server.Gunicorn, reader: Consumer, database: str, spool_dir: Path) -> int:
    """Stop the server, let the consumer store the stream, replay the spool; the rows."""
    running.stop()
    # The running consumer stores what is left; a killed one's entries once
    # they are idle past the claim time.
    deadline = time.monotonic() + DRAIN_SECONDS
    left = backlog(reader.env["LAMBDACTR_INGEST_URL"])
    while time.monotonic() < deadline and left != (0, 0):
        time.sleep(0.2)
        left = backlog(reader.env["LAMBDACTR_INGEST_URL"])
    reader.stop()
    drained = left == (0, 0)
    assert drained, f"stream and pending left: {left}"
    replayed = server.manage(running.env, "lambdactr_replay")
    assert replayed.returncode == 0, replayed.stderr
    assert [p.name for p in spool_dir.iterdir()] in ([], ["replay.lock"])
    stored = server.stored_rows(database)
    traffic.scan_rows("broker load rows", stored)
    ids = [row["id"] for row in stored]
    assert len(ids) == len(set(ids))
    return server.count_rows(database)


def backlog(url: str) -> tuple[int, int]:
    """Entries in the stream, and those read but not acknowledged."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        pending = client.xpending(STREAM, GROUP)["pending"]
        return int(client.xlen(STREAM)), int(pending)
    finally:
        client.close()


def after(seconds: float, action: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(seconds), action()), daemon=True)
    thread.start()
    return thread


def check(run: Run, rows: int) -> None:
    assert (run.ok, run.bad, run.server_errors, run.socket_errors) == (REQUESTS, 0, 0, 0)
    assert rows == run.ok


def test_a_killed_consumer_restarted_loses_and_doubles_nothing(
    database: str, spool_dir: Path, redis: server.Redis
) -> None:
    running, reader = start(database, spool_dir, redis)
    killed: list[int] = []

    def kill_and_restart() -> None:
        assert reader.process is not None
        killed.append(reader.process.pid)
        reader.kill()
        time.sleep(0.5)
        reader.start()

    try:
        kill = when_rows_reach(database, REQUESTS // 3, kill_and_restart)
        run = wrk(running.url, REQUESTS)
        kill.join(10)
    finally:
        rows = finish(running, reader, database, spool_dir)
    report("broker, consumer KILL", run, rows)

    assert killed
    check(run, rows)


def test_redis_killed_and_restarted_mid_load_loses_nothing(
    database: str, spool_dir: Path, redis: server.Redis
) -> None:
    running, reader = start(database, spool_dir, redis)

    def kill_and_restart() -> None:
        redis.kill()
        time.sleep(1.5)
        redis.start()

    try:
        outage = when_rows_reach(database, REQUESTS // 4, kill_and_restart)
        run = wrk(running.url, REQUESTS)
        outage.join(10)
        log = running.log_text()
    finally:
        rows = finish(running, reader, database, spool_dir)
    report("broker, Redis KILL + restart", run, rows)

    # The beacon spooled while Redis was away.
    assert "broker unreachable or failing, spooled" in log
    check(run, rows)


def test_the_broker_accepts_while_the_database_is_stopped(
    cluster: server.Cluster, spool_dir: Path, redis: server.Redis
) -> None:
    database = cluster.create_database(f"broker_{time.time_ns()}")
    running, reader = start(database, spool_dir, redis)
    stopped_for: list[float] = []

    def stop_and_start() -> None:
        began = time.monotonic()
        cluster.stop()
        time.sleep(2)
        cluster.start()
        stopped_for.append(time.monotonic() - began)

    try:
        outage = when_rows_reach(database, REQUESTS // 4, stop_and_start)
        run = wrk(running.url, REQUESTS)
        outage.join(15)
    finally:
        rows = finish(running, reader, database, spool_dir)
    report("broker, database stopped", run, rows)

    assert stopped_for
    assert "ingest paused" in reader.log.read_text()
    # Nothing was spooled: the beacon never needed the database.
    assert "spooled" not in running.log_text()
    check(run, rows)


@pytest.fixture
def database() -> Iterator[str]:
    with server.scratch_database("lambdactr_broker") as url:
        yield url
