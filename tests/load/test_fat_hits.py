"""Fat hits against real gunicorn and a real PostgreSQL that stops (issue 11, finding 1).

A fat hit is the largest request gunicorn accepts by default: a User-Agent and
49 headers of 1,024 four-byte characters, some 200 kB on the wire. Before the
fix a spool of such hits could never be replayed (each batch ran past the
beacon's timeout, taken for an outage) and held up the beacon that triggered
each retry; in buffered mode the flusher's COPY timed out and escaped.
"""

from __future__ import annotations

import re
import socket
import tempfile
import time
from pathlib import Path

import pytest

from tests import server

pytestmark = [
    pytest.mark.load,
    pytest.mark.skipif(
        not (server.PG_BIN / "initdb").exists(), reason="PostgreSQL server binaries not found"
    ),
]

FAT_HEADERS = 49
# U+1F600, four bytes of UTF-8, 12 bytes of JSON escapes.
FAT_VALUE = ("\U0001f600" * 1024).encode()


def fat_request(path: str) -> bytes:
    headers = [
        b"Host: counter.example",
        b"Referer: https://blog.example" + path.encode(),
        b"Accept-Language: en",
        b"User-Agent: Mozilla/5.0 " + FAT_VALUE,
        # Client-hint names: values the allowlist keeps, so the size bound is what cuts.
        *(b"Sec-CH-Fat-%d: " % n + FAT_VALUE for n in range(FAT_HEADERS)),
        b"Connection: close",
    ]
    return b"GET /ctr/s.css HTTP/1.1\r\n" + b"\r\n".join(headers) + b"\r\n\r\n"


def send(port: int, data: bytes) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(data)
        answer = b""
        while b"\r\n" not in answer:
            part = sock.recv(4096)
            if not part:
                break
            answer += part
    return int(answer.split(b" ", 2)[1]) if answer else 0


def thin_beacon(gunicorn: server.Gunicorn, path: str) -> float:
    status, took = server.get(
        gunicorn.url + "/ctr/s.css", headers={"Referer": f"https://blog.example{path}"}
    )
    assert status == 200
    return took


def worker_rss_mb(gunicorn: server.Gunicorn) -> float:
    most = 0
    for pid in gunicorn.worker_pids():
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                most = max(most, int(line.split()[1]))
    return most / 1024


def rows_reach(url: str, count: int, within: float) -> int:
    deadline = time.monotonic() + within
    rows = server.count_rows(url)
    while rows < count and time.monotonic() < deadline:
        time.sleep(0.5)
        rows = server.count_rows(url)
    return rows


@pytest.fixture
def spool_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="lambdactr-fat-spool-"))


@pytest.fixture
def database(cluster: server.Cluster, spool_dir: Path) -> str:
    url = cluster.create_database(f"fat_{time.time_ns()}")
    migrated = server.manage(server.server_env(url, spool_dir), "migrate", "--verbosity", "0")
    assert migrated.returncode == 0, migrated.stderr
    return url


FAT, THIN = 115, 50


def test_fat_hits_spooled_in_an_outage_are_stored_and_the_beacon_does_not_wait(
    cluster: server.Cluster, database: str, spool_dir: Path
) -> None:
    env = server.server_env(database, spool_dir, LAMBDACTR_DB_TIMEOUT="1")
    with server.Gunicorn(env, workers=2) as gunicorn:
        thin_beacon(gunicorn, "/warm/")
        cluster.stop()
        try:
            statuses = [send(gunicorn.port, fat_request(f"/fat/{n}/")) for n in range(FAT)]
            for n in range(THIN):
                thin_beacon(gunicorn, f"/thin/{n}/")
        finally:
            cluster.start()
        assert statuses == [200] * FAT
        spool_bytes = sum(p.stat().st_size for p in spool_dir.glob("*.jsonl"))
        # The first writes after the outage find the spool; they must not replay it.
        took = [thin_beacon(gunicorn, f"/after/{n}/") for n in range(4)]
        stored = rows_reach(database, 1 + FAT + THIN + 4, within=90)
        rss = worker_rss_mb(gunicorn)
        log = gunicorn.log_text()

    print(
        f"\n{FAT} fat + {THIN} thin hits spooled, {spool_bytes / 1e6:.1f} MB; "
        f"beacons after the outage {min(took):.3f}-{max(took):.3f}s; "
        f"{stored} rows stored; worker peak RSS {rss:.0f} MB"
    )
    assert stored == 1 + FAT + THIN + 4
    assert max(took) < 1.5, took
    replayed = sum(int(n) for n in re.findall(r"stored (\d+) spooled hits", log))
    assert replayed == FAT + THIN
    assert rss < 400


def test_buffered_fat_hits_are_stored_without_an_outage(database: str, spool_dir: Path) -> None:
    count = 400
    # Five seconds of fat hits in one batch: far beyond what the beacon's timeout
    # lets one statement take, well within the batches' own.
    env = server.server_env(
        database, spool_dir, LAMBDACTR_DB_TIMEOUT="0.5", LAMBDACTR_BUFFER_SECONDS="5"
    )
    with server.Gunicorn(env, workers=2) as gunicorn:
        statuses = [send(gunicorn.port, fat_request(f"/fat/{n}/")) for n in range(count)]
        stored = rows_reach(database, count, within=90)
        rss = worker_rss_mb(gunicorn)
        log = gunicorn.log_text()

    print(f"\nbuffered: {count} fat hits, {stored} stored; worker peak RSS {rss:.0f} MB")
    assert statuses == [200] * count
    assert stored == count
    assert "Traceback" not in log
    assert "did not take a batch" not in log
    assert rss < 400
