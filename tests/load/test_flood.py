"""A real flood on loopback against gunicorn: one client is limited, others are not."""

from __future__ import annotations

import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import server, traffic
from tests.load.test_load import CONNECTIONS, wrk

pytestmark = [
    pytest.mark.load,
    pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed"),
]

LIMIT = 100
FLOOD = 1500


@pytest.fixture
def limited() -> Iterator[tuple[server.Gunicorn, str]]:
    with server.scratch_database("lambdactr_flood") as url:
        env = server.server_env(
            url,
            Path(tempfile.mkdtemp(prefix="lambdactr-flood-spool-")),
            LAMBDACTR_RATE_LIMIT=str(LIMIT),
        )
        migrated = server.manage(env, "migrate", "--verbosity", "0")
        assert migrated.returncode == 0, migrated.stderr
        # One process: the default cache (LocMem) is per process; several
        # workers need a shared cache to share one count. A thread per wrk
        # connection, so no connection waits on another (see test_load).
        with server.Gunicorn(env, workers=1, threads=CONNECTIONS) as running:
            yield running, url
        traffic.scan_rows("flood test rows", server.stored_rows(url))


def beacon_from(address: str, port: int) -> int:
    with socket.create_connection(
        ("127.0.0.1", port), timeout=10, source_address=(address, 0)
    ) as sock:
        sock.sendall(
            b"GET /ctr/s.css HTTP/1.1\r\nHost: counter.example\r\nConnection: close\r\n\r\n"
        )
        return int(sock.recv(64).split()[1])


def test_a_flood_from_one_client_is_cut_to_the_limit(
    limited: tuple[server.Gunicorn, str],
) -> None:
    running, url = limited
    started = time.time()
    run = wrk(running.url, FLOOD)
    ended = time.time()
    flooded = server.count_rows(url)
    # Another client on loopback is not limited by the first one's flood.
    others = [beacon_from("127.0.0.2", running.port) for _ in range(5)]
    running.stop()
    minutes = len({int(started // 60), int(ended // 60)})
    print(f"\nflood: {run.ok} answered 200, {flooded} stored (limit {LIMIT}/min)")

    # Refused hits get the same answer as stored ones.
    assert (run.ok, run.bad, run.socket_errors) == (FLOOD, 0, 0)
    assert LIMIT <= flooded <= LIMIT * minutes
    assert others == [200] * 5
    assert server.count_rows(url) == flooded + 5
    assert "rate limit refused" in running.log_text()
