"""Random UUIDv4 against time-ordered UUIDv7 primary keys, at page-view table scale.

Usage: .venv/bin/python bench/keys.py [--rows 10000000] [--batch 100000] [--keys v4,v7]

Loads the same rows into a table shaped like ``lambdactr_django_headerhit``
(the same columns, primary key and three indexes as migration 0001), once per
key kind, in batches with ``COPY``, and reports the insert rate per batch as
the table grows, the WAL written (``pg_current_wal_lsn()`` before and after),
and the size of the primary-key index and of the others. Keys are made in
Python, as the app makes them: ``uuid.uuid4()``, and for v7 ``uuid.uuid7()``
where Python has it (3.14+), else uuid-utils or uuid6 (``pip install
uuid-utils``).

By default it runs its own throwaway PostgreSQL cluster (initdb under a
temporary directory, on a free loopback port, the server's default settings:
128 MB shared_buffers, 1 GB max_wal_size), so the WAL it measures is its own
and nobody else's traffic. ``--database-url`` uses an existing server instead
(a scratch database made and dropped there; its WAL count then includes
whatever else that server is doing). Each kind is bounded by ``--max-seconds``.
PostgreSQL's programs are taken from ``$LAMBDACTR_PG_BIN`` (default
/usr/lib/postgresql/15/bin); as root, initdb and the server run as ``postgres``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

PG_BIN = Path(os.environ.get("LAMBDACTR_PG_BIN", "/usr/lib/postgresql/15/bin"))
TABLE = "keys_headerhit"

# Migration 0001's DDL for HeaderHit on PostgreSQL (manage.py sqlmigrate
# lambdactr_django 0001), under another name.
DDL = [
    f"""CREATE TABLE {TABLE} (
        id uuid NOT NULL PRIMARY KEY,
        created_at timestamp with time zone NOT NULL,
        site varchar(255) NOT NULL,
        path varchar(2000) NOT NULL,
        referrer varchar(2000) NOT NULL,
        user_agent varchar(1000) NOT NULL,
        verified boolean NOT NULL,
        headers jsonb NOT NULL
    )""",
    f"CREATE INDEX {TABLE}_created_at ON {TABLE} (created_at)",
    f"CREATE INDEX {TABLE}_site_created ON {TABLE} (site, created_at DESC)",
    f"CREATE INDEX {TABLE}_verified ON {TABLE} (verified, created_at DESC)",
]
COLUMNS = "id, created_at, site, path, referrer, user_agent, verified, headers"

USER_AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
]
SITES = ["blog.example", "docs.example", "shop.example"]
REFERRERS = ["", "", "", "https://news.example/", "https://search.example/?utm_source=x"]


def v7_maker() -> Callable[[], uuid.UUID]:
    made = getattr(uuid, "uuid7", None)
    if made is not None:
        return made  # type: ignore[no-any-return]
    with contextlib.suppress(ImportError):
        from uuid_utils import compat

        return compat.uuid7
    with contextlib.suppress(ImportError):
        import uuid6

        return uuid6.uuid7
    sys.exit("bench/keys.py: no UUIDv7 maker; on Python < 3.14: pip install uuid-utils")


def copy_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def row_tails(count: int, seed: int) -> list[str]:
    """The columns after id and created_at, for ``count`` varied page views."""
    rng = random.Random(seed)
    tails = []
    for _ in range(count):
        site = rng.choice(SITES)
        path = f"/posts/{rng.randrange(500)}/{'-'.join(rng.sample(['a', 'b', 'c', 'd'], 2))}/"
        referrer = rng.choice(REFERRERS)
        agent = rng.choice(USER_AGENTS)
        headers = {
            "Accept": "text/css,*/*;q=0.1",
            "Accept-Encoding": "gzip, deflate, br, zstd",
            "Accept-Language": rng.choice(["en-GB,en;q=0.9", "de-DE,de;q=0.9,en;q=0.8", "fr"]),
            "Connection": "keep-alive",
            "Host": "counter.example",
            "Referer": f"https://{site}{path}",
            "Sec-CH-UA": '"Chromium";v="131", "Not_A Brand";v="24"',
            "Sec-CH-UA-Mobile": "?0",
            "Sec-CH-UA-Platform": '"Linux"',
            "Sec-Fetch-Dest": "style",
            "Sec-Fetch-Mode": "no-cors",
            "Sec-Fetch-Site": "cross-site",
            "User-Agent": agent,
        }
        verified = "t" if rng.random() > 0.01 else "f"
        fields = [site, path, referrer, agent, verified, json.dumps(headers)]
        tails.append("\t".join(copy_escape(value) for value in fields))
    return tails


STEP = dt.timedelta(microseconds=50)


def batch_text(
    make_key: Callable[[], uuid.UUID], tails: list[str], rows: int, after: dt.datetime
) -> tuple[bytes, dt.datetime]:
    """``rows`` rows as COPY text, and the last ``created_at`` in them.

    Keys and timestamps are made in order of arrival, as the app makes them;
    ``created_at`` never goes back, even when batches are made faster than
    their 50 µs steps, so only the key differs between the kinds.
    """
    start = max(dt.datetime.now(dt.UTC), after + STEP)
    lines = []
    for i in range(rows):
        created = (start + i * STEP).isoformat()
        lines.append(f"{make_key()}\t{created}\t{tails[i % len(tails)]}\n")
    return "".join(lines).encode(), start + (rows - 1) * STEP


@dataclass
class Batch:
    rows_before: int
    rows: int
    seconds: float
    wal_bytes: int

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


@dataclass
class KindResult:
    kind: str
    rows: int = 0
    seconds: float = 0.0
    wal_bytes: int = 0
    pkey_bytes: int = 0
    other_index_bytes: dict[str, int] = field(default_factory=dict)
    table_bytes: int = 0
    key_make_us: float = 0.0
    stopped_early: bool = False
    batches: list[Batch] = field(default_factory=list)


# The cluster ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[str]:
    directory = Path(tempfile.mkdtemp(prefix="lambdactr-keys-"))
    data = directory / "data"
    port = free_port()
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
    run = {"check": True, "capture_output": True, "timeout": 120}
    try:
        subprocess.run(  # noqa: S603
            _as_postgres(
                [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]
            ),
            **run,  # type: ignore[call-overload]
        )
        options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1"
        subprocess.run(  # noqa: S603
            _as_postgres(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    options,
                    "-l",
                    str(directory / "log"),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            **run,  # type: ignore[call-overload]
        )
        try:
            yield f"postgres://postgres@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(  # noqa: S603
                _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
                **run,  # type: ignore[call-overload]
            )
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    base = server_url.rsplit("/", 1)[0]
    name = f"lambdactr_keys_{os.getpid()}"
    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=10) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


# The load -------------------------------------------------------------------


def wal_lsn(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    return str(row[0])


def wal_since(conn: psycopg.Connection[Any], lsn: str) -> int:
    row = conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", [lsn]).fetchone()
    assert row is not None
    return int(row[0])


def relation_size(conn: psycopg.Connection[Any], name: str) -> int:
    row = conn.execute("SELECT pg_relation_size(%s::regclass)", [name]).fetchone()
    assert row is not None
    return int(row[0])


def key_make_cost(make_key: Callable[[], uuid.UUID], count: int = 100_000) -> float:
    started = time.perf_counter()
    for _ in range(count):
        make_key()
    return (time.perf_counter() - started) / count * 1e6


def load(
    url: str,
    kind: str,
    make_key: Callable[[], uuid.UUID],
    tails: list[str],
    rows: int,
    batch: int,
    max_seconds: float,
) -> KindResult:
    result = KindResult(kind=kind, key_make_us=key_make_cost(make_key))
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        for statement in DDL:
            conn.execute(statement)
        # Both kinds start from the same place: no dirty pages or WAL owed.
        conn.execute("CHECKPOINT")
        first_lsn = wal_lsn(conn)
        deadline = time.monotonic() + max_seconds
        report_every = max(1, rows // batch // 20)
        last_created = dt.datetime.now(dt.UTC)
        while result.rows < rows:
            if time.monotonic() > deadline:
                result.stopped_early = True
                break
            size = min(batch, rows - result.rows)
            data, last_created = batch_text(make_key, tails, size, last_created)
            lsn = wal_lsn(conn)
            started = time.perf_counter()
            with (
                conn.transaction(),
                conn.cursor().copy(f"COPY {TABLE} ({COLUMNS}) FROM STDIN") as copy,
            ):
                copy.write(data)
            seconds = time.perf_counter() - started
            current = Batch(result.rows, size, seconds, wal_since(conn, lsn))
            result.batches.append(current)
            result.rows += size
            result.seconds += seconds
            if len(result.batches) % report_every == 0 or result.rows >= rows:
                print(
                    f"  {kind} {result.rows:>11,} rows  batch {current.rate:>9,.0f} rows/s  "
                    f"WAL {current.wal_bytes / size:>6,.0f} B/row",
                    flush=True,
                )
        result.wal_bytes = wal_since(conn, first_lsn)
        result.pkey_bytes = relation_size(conn, f"{TABLE}_pkey")
        result.table_bytes = relation_size(conn, TABLE)
        for index in ("created_at", "site_created", "verified"):
            result.other_index_bytes[index] = relation_size(conn, f"{TABLE}_{index}")
        conn.execute(f"DROP TABLE {TABLE}")
    return result


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def report(results: list[KindResult], batch: int) -> None:
    print("\n== summary")
    for r in results:
        rates = [b.rate for b in r.batches]
        tenth = max(1, len(rates) // 10)
        early = "; STOPPED EARLY at --max-seconds" if r.stopped_early else ""
        print(
            f"  {r.kind}: {r.rows:,} rows in {r.seconds:,.0f} s of COPY "
            f"({r.rows / r.seconds:,.0f} rows/s overall{early})"
        )
        print(
            f"      rows/s per {batch:,}-row batch: first tenth median "
            f"{statistics.median(rates[:tenth]):,.0f}, last tenth median "
            f"{statistics.median(rates[-tenth:]):,.0f}, min {min(rates):,.0f}"
        )
        print(f"      WAL {mib(r.wal_bytes)} ({r.wal_bytes / r.rows:,.0f} B/row)")
        others = ", ".join(f"{k} {mib(v)}" for k, v in r.other_index_bytes.items())
        print(
            f"      pkey index {mib(r.pkey_bytes)} ({r.pkey_bytes / r.rows:.1f} B/row); "
            f"other indexes: {others}; table {mib(r.table_bytes)}"
        )
        print(f"      making one key in Python: {r.key_make_us:.2f} us")
    print("\n  by tenth of the load: median rows/s per batch, WAL bytes per row")
    print("  " + "".join(f"{r.kind:>22}" for r in results))
    for tenth in range(10):
        cells = []
        for r in results:
            n = len(r.batches)
            part = r.batches[tenth * n // 10 : (tenth + 1) * n // 10] or r.batches[-1:]
            rate = statistics.median(b.rate for b in part)
            wal = sum(b.wal_bytes for b in part) / sum(b.rows for b in part)
            cells.append(f"{rate:>12,.0f} {wal:>7,.0f} B")
        print(f"  {(tenth + 1) * 10:>3}% " + "".join(f"{c:>22}" for c in cells))


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> int:
    # Stopped from outside: still stop the throwaway cluster and remove it.
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    parser = argparse.ArgumentParser(prog="bench/keys.py", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows per key kind")
    parser.add_argument("--batch", type=int, default=100_000, help="rows per COPY")
    parser.add_argument("--keys", default="v4,v7", help="comma-separated, among v4 and v7")
    parser.add_argument(
        "--max-seconds", type=float, default=3600, help="stop a kind's load after this long"
    )
    parser.add_argument("--database-url", help="use this server instead of a throwaway cluster")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    kinds = [k.strip() for k in args.keys.split(",") if k.strip()]
    if set(kinds) - {"v4", "v7"} or args.rows < 1 or args.batch < 1:
        parser.error("--keys among v4,v7; --rows and --batch positive")
    tails = row_tails(1000, seed=1)
    results = []
    with contextlib.ExitStack() as stack:
        if args.database_url:
            url = stack.enter_context(scratch_database(args.database_url))
        else:
            url = stack.enter_context(scratch_database(stack.enter_context(throwaway_cluster())))
        with psycopg.connect(url, connect_timeout=10) as conn:
            for setting in ("server_version", "shared_buffers", "max_wal_size", "wal_level"):
                print(f"{setting}: {conn.execute(f'SHOW {setting}').fetchone()[0]}")  # type: ignore[index]
        for kind in kinds:
            make_key = uuid.uuid4 if kind == "v4" else v7_maker()
            print(f"\n== {kind}: {args.rows:,} rows in batches of {args.batch:,}", flush=True)
            results.append(
                load(url, kind, make_key, tails, args.rows, args.batch, args.max_seconds)
            )
    report(results, args.batch)
    if args.json:
        args.json.write_text(
            json.dumps(
                [{**asdict(r), "batch_rates": [b.rate for b in r.batches]} for r in results],
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
