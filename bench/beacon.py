"""Benchmark the beacon against an empty view, under gunicorn, on PostgreSQL and SQLite.

Run through ``bash bench/run`` (see its header). For each database this starts
the example project under gunicorn (sync workers, one per core, DEBUG off) on a
database it creates and drops itself, then alternates wrk runs against

- ``/bench/empty.css``: the same empty stylesheet, headers, decorators and
  middleware as the beacon, without capturing or storing anything, and
- ``/ctr/s.css``: the beacon, sent a browser's header set,

and prints requests/s, p50 and p99 latency and CPU time per request of both,
the ratios beacon/empty per round with their median and range, and the rows
stored against the 2xx responses wrk counted. It reports and exits 0 whatever
the ratios; it exits 1 when the rows stored differ from the 2xx count (hits
lost or invented) or an answer is not 2xx, 2 when the server cannot be started.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import coldstart

ROOT = Path(__file__).resolve().parent.parent
QUIET_TAIL = Path(__file__).resolve().parent / "quiet_tail.lua"
TABLE = "lambdactr_django_headerhit"
BASELINE_PATH = "/bench/empty.css"
# The ceiling: the same empty stylesheet from a bare WSGI callable ahead of
# Django (example_project/wsgi.py), for the distance the beacon has left.
PLAIN_PATH = "/bench/plain.css"
BEACON_PATH = "/ctr/s.css"
MODES = ("durable", "buffered", "broker")
PAGE_PATH = "/posts/hello-counter/"

# What Chromium sends for <link rel="stylesheet" media="none"> on a page; the
# Referer is the page (the unsigned snippet's way of naming it).
BROWSER_HEADERS = {
    "User-Agent": (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36"
    ),
    "Accept": "text/css,*/*;q=0.1",
    "Accept-Language": "en-GB,en;q=0.9,de;q=0.8",
    "Accept-Encoding": "gzip, deflate, br, zstd",
    "Sec-CH-UA": '"Chromium";v="131", "Not_A Brand";v="24"',
    "Sec-CH-UA-Mobile": "?0",
    "Sec-CH-UA-Platform": '"Linux"',
    "Sec-Fetch-Dest": "style",
    "Sec-Fetch-Mode": "no-cors",
    "Sec-Fetch-Site": "same-origin",
    "DNT": "1",
}


class BenchError(Exception):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class WrkResult:
    requests: int
    sent: int
    non_2xx_3xx: int
    socket_errors: dict[str, int]
    p50_ms: float
    p99_ms: float
    active_seconds: float
    server_cpu: float = 0.0
    database_cpu: float = 0.0
    client_cpu: float = 0.0
    load_average: float = 0.0

    @property
    def ok_responses(self) -> int:
        # wrk counts 3xx as successes; a 3xx here would store no row, so the
        # rows-against-2xx check catches it.
        return self.requests - self.non_2xx_3xx

    @property
    def in_flight(self) -> int:
        # Sent but not answered when wrk stopped: slower than the quiet tail.
        # The server may or may not have stored them.
        return max(self.sent - self.requests, 0)

    @property
    def rps(self) -> float:
        # wrk divides by its whole run, quiet tail included; requests were
        # only sent during the active part.
        return self.requests / self.active_seconds

    @property
    def database_cpu_us(self) -> float:
        return self.database_cpu / max(self.requests, 1) * 1e6

    @property
    def cpu_us(self) -> float:
        """CPU time per request, server (workers, database backends) and wrk together."""
        return (self.server_cpu + self.client_cpu) / max(self.requests, 1) * 1e6


@dataclass
class Round:
    number: int
    baseline: WrkResult
    beacon: WrkResult
    baseline_rows: int
    beacon_rows: int
    plain: WrkResult | None = None

    @property
    def ratio(self) -> float:
        return self.beacon.rps / self.baseline.rps if self.baseline.rps else 0.0

    @property
    def plain_ratio(self) -> float:
        # The most any beacon could reach in this server on this machine.
        if self.plain is None or not self.baseline.rps:
            return 0.0
        return self.plain.rps / self.baseline.rps

    @property
    def cpu_ratio(self) -> float:
        # What the ratio would be on a machine with nothing else running and
        # nothing blocking: how much more CPU a beacon request costs.
        return self.baseline.cpu_us / self.beacon.cpu_us if self.beacon.cpu_us else 0.0

    def failures(self) -> list[str]:
        # Hits lost or invented, or answers other than the empty stylesheet:
        # the figures would not measure what they claim to.
        found = []
        ok, late = self.beacon.ok_responses, self.beacon.in_flight
        if not ok <= self.beacon_rows <= ok + late:
            found.append(
                f"round {self.number}: beacon stored {self.beacon_rows} rows "
                f"for {ok} 2xx responses"
                + (f" and {late} requests still in flight" if late else "")
            )
        if self.baseline_rows:
            found.append(f"round {self.number}: the empty view stored {self.baseline_rows} rows")
        for name, result in self._results():
            if result.non_2xx_3xx:
                found.append(
                    f"round {self.number}: {name}: {result.non_2xx_3xx} non-2xx/3xx responses"
                )
        return found

    def _results(self) -> list[tuple[str, WrkResult]]:
        found = [("empty view", self.baseline), ("beacon", self.beacon)]
        return found + ([("plain WSGI", self.plain)] if self.plain is not None else [])

    def warnings(self) -> list[str]:
        found = []
        if self.beacon.in_flight:
            found.append(
                f"round {self.number}: {self.beacon.in_flight} beacon requests were still in "
                "flight when wrk stopped; rows were checked against a range"
            )
        for name, result in self._results():
            errors = {kind: n for kind, n in result.socket_errors.items() if n}
            if errors:
                found.append(f"round {self.number}: {name}: wrk socket errors {errors}")
        return found


@dataclass
class DatabaseRun:
    database: str
    # "durable" (each hit stored before the answer) or "buffered"
    # (LAMBDACTR_BUFFER_SECONDS); the modes of one database share their baseline runs.
    mode: str = "durable"
    rounds: list[Round] = field(default_factory=list)
    cold_starts: list[coldstart.ColdStart] = field(default_factory=list)
    plain_cold_starts: list[coldstart.ColdStart] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.database}/{self.mode}"


@dataclass(frozen=True)
class Options:
    databases: list[str]
    rounds: int
    duration: float
    tail: float
    warmup: float
    workers: int
    worker_threads: int
    threads: int
    connections: int
    pg_url: str
    signed: bool
    server_env: dict[str, str]
    db_query: str
    json_path: Path | None
    modes: list[str] = field(default_factory=lambda: ["durable"])
    buffer_seconds: float = 1.0
    door: str = "wsgi"
    cold_starts: int = 0


def parse_args(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="bash bench/run",
        description=(
            "Beacon throughput against an empty view under gunicorn, on PostgreSQL and SQLite. "
            "Reports; exits 0 whatever the ratios, 1 when rows stored differ from 2xx "
            "responses, 2 when the server does not start."
        ),
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="2 rounds of 1.5 s, for CI (under a minute for both databases)",
    )
    parser.add_argument("--rounds", type=int, help="rounds per database (default 5, at most 50)")
    parser.add_argument(
        "--duration", type=float, help="seconds per wrk run (default 10, at most 300)"
    )
    parser.add_argument(
        "--databases",
        default="postgres,sqlite",
        help="comma-separated, among postgres and sqlite (default: both)",
    )
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="gunicorn sync workers (cores)"
    )
    parser.add_argument(
        "--worker-threads",
        type=int,
        default=1,
        help="threads per gunicorn worker (default 1: sync workers; above 1: gthread workers, "
        "for the empty view and the beacon alike)",
    )
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432/lambdactr"),
        help="PostgreSQL server to create the scratch database on (default: $PG_URL or "
        "postgres://postgres@127.0.0.1:5432/lambdactr; its host, port and login are used, and "
        "its database's name names the scratch one: lambdactr_bench_PID)",
    )
    parser.add_argument(
        "--signed",
        action="store_true",
        help="request the signed link the template tag renders instead of the bare URL",
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for the server, e.g. CONN_HEALTH_CHECKS=False (repeatable)",
    )
    parser.add_argument(
        "--db-query",
        default="",
        help="query string added to DATABASE_URL (django-environ OPTIONS), e.g. "
        "'init_command=PRAGMA journal_mode=WAL' with --databases sqlite",
    )
    parser.add_argument(
        "--modes",
        default="durable",
        help="comma-separated, among durable, buffered (LAMBDACTR_BUFFER_SECONDS) and broker "
        "(LAMBDACTR_INGEST_URL: a redis-server of the run's own, appendfsync everysec, and one "
        "lambdactr_ingest beside the server): each mode gets a server of its own, measured "
        "in turn against the same empty-view runs (default: durable)",
    )
    parser.add_argument(
        "--buffer-seconds",
        type=float,
        default=1.0,
        help="LAMBDACTR_BUFFER_SECONDS of the buffered mode (default 1)",
    )
    parser.add_argument(
        "--door",
        choices=["wsgi", "middleware", "view"],
        default="wsgi",
        help="how beacon requests reach the counter (the example's BEACON_FAST_PATH): the "
        "fast path in wsgi.py (default), its middleware, or the view through all middleware; "
        "the empty view goes through all middleware whichever",
    )
    parser.add_argument(
        "--cold-starts",
        type=int,
        help="boots of a one-worker server whose first beacon request is timed against the "
        "p50 of the sequential ones after it (default 3, 1 with --quick, 0 for none)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if any("=" not in item for item in args.server_env):
        parser.error("--server-env takes NAME=VALUE")
    rounds = args.rounds or (2 if args.quick else 5)
    cold_starts = args.cold_starts if args.cold_starts is not None else (1 if args.quick else 3)
    duration = args.duration or (1.5 if args.quick else 10.0)
    databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    unknown = set(databases) - {"postgres", "sqlite"}
    if unknown or not databases:
        parser.error(f"unknown database(s): {', '.join(sorted(unknown)) or '(none)'}")
    modes = [name.strip() for name in args.modes.split(",") if name.strip()]
    if set(modes) - set(MODES) or not modes or len(set(modes)) != len(modes):
        parser.error(f"--modes takes {', '.join(MODES)}, not {args.modes!r}")
    if "broker" in modes and shutil.which("redis-server") is None:
        parser.error("--modes broker needs redis-server (Debian's redis-server package)")
    if not 0 < args.buffer_seconds <= 60:
        parser.error("--buffer-seconds must be above 0 and at most 60")
    if (
        rounds < 1
        or duration <= 0
        or args.workers < 1
        or args.worker_threads < 1
        or args.connections < args.threads
        or not 0 <= cold_starts <= 20
    ):
        parser.error(
            "rounds, duration, workers and worker threads must be positive; connections >= "
            "threads; cold starts from 0 to 20"
        )
    return Options(
        databases=databases,
        rounds=min(rounds, 50),
        duration=min(duration, 300.0),
        tail=0.5 if args.quick else 1.0,
        warmup=0.5 if args.quick else 3.0,
        workers=args.workers,
        worker_threads=args.worker_threads,
        threads=args.threads,
        connections=args.connections,
        pg_url=args.pg_url,
        signed=args.signed,
        server_env=dict(item.split("=", 1) for item in args.server_env),
        db_query=args.db_query,
        json_path=args.json,
        modes=modes,
        buffer_seconds=args.buffer_seconds,
        door=args.door,
        cold_starts=cold_starts,
    )


# Databases ------------------------------------------------------------------


class Database:
    label: str
    url: str

    def count(self) -> int:
        raise NotImplementedError

    def backend_pids(self) -> list[int]:
        return []

    def empty(self) -> None:
        raise NotImplementedError

    def drop(self) -> None:
        raise NotImplementedError


class Postgres(Database):
    label = "PostgreSQL"

    def __init__(self, server_url: str) -> None:
        import psycopg
        from psycopg import sql

        self._psycopg = psycopg
        self._sql = sql
        base, _, database = server_url.split("?", 1)[0].rpartition("/")
        self._admin_url = f"{base}/postgres"
        # Named after the URL's database, so that runs of several checkouts
        # sharing one server tell their scratch databases apart.
        prefix = database or "lambdactr"
        if not prefix.endswith("_bench"):
            prefix += "_bench"
        self.name = f"{prefix[:50]}_{os.getpid()}"
        self.url = f"{base}/{self.name}"
        with psycopg.connect(self._admin_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        self._conn: Any = None

    def _connection(self) -> Any:
        if self._conn is None:
            self._conn = self._psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        return self._conn

    def count(self) -> int:
        row = self._connection().execute(f"SELECT count(*) FROM {TABLE}").fetchone()  # noqa: S608
        return int(row[0])

    def empty(self) -> None:
        self._connection().execute(f"TRUNCATE {TABLE}")

    def backend_pids(self) -> list[int]:
        # The server processes serving the benchmark's gunicorn workers.
        rows = self._connection().execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [self.name],
        )
        return [int(pid) for (pid,) in rows.fetchall()]

    def drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
        with self._psycopg.connect(self._admin_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(
                self._sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    self._sql.Identifier(self.name)
                )
            )


class Sqlite(Database):
    label = "SQLite"

    def __init__(self) -> None:
        self._directory = Path(tempfile.mkdtemp(prefix="lambdactr-bench-"))
        self.path = self._directory / "bench.sqlite3"
        self.url = f"sqlite:///{self.path}"

    def _execute(self, statement: str) -> list[tuple[Any, ...]]:
        with contextlib.closing(sqlite3.connect(self.path, timeout=30)) as conn:
            rows = conn.execute(statement).fetchall()
            conn.commit()
            return rows

    def count(self) -> int:
        return int(self._execute(f"SELECT count(*) FROM {TABLE}")[0][0])  # noqa: S608

    def empty(self) -> None:
        self._execute(f"DELETE FROM {TABLE}")  # noqa: S608

    def drop(self) -> None:
        shutil.rmtree(self._directory, ignore_errors=True)


@contextlib.contextmanager
def scratch_database(kind: str, options: Options, *, keep: bool = False) -> Iterator[Database]:
    """A new database for one run, dropped after it unless ``keep``."""
    database: Database
    try:
        database = Postgres(options.pg_url) if kind == "postgres" else Sqlite()
    except Exception as error:
        raise BenchError(f"cannot create the {kind} database: {error}", 2) from error
    try:
        yield database
    finally:
        if keep:
            print(f"kept the scratch database: {database.url}", file=sys.stderr)
        else:
            database.drop()


# The server -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(database: Database, options: Options) -> dict[str, str]:
    url = database.url
    if options.db_query:
        url += "?" + urllib.parse.quote(options.db_query, safe="=&")
    return {
        **os.environ,
        **options.server_env,
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
        "DATABASE_URL": url,
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1",
        "BENCH_BASELINE": "1",
        "BEACON_FAST_PATH": options.door,
        # wrk is one client sending thousands of hits a minute; a per-client
        # limit would refuse most of them (and answer 200 all the same).
        "LAMBDACTR_RATE_LIMIT": "0",
        # No collectstatic: the beacon serves no static file.
        "PYTHONWARNINGS": "ignore:No directory at:UserWarning",
    }


def manage(env: dict[str, str], *args: str) -> str:
    command = [sys.executable, "manage.py", *args]
    try:
        done = subprocess.run(  # noqa: S603
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=True
        )
    except subprocess.CalledProcessError as error:
        raise BenchError(f"{' '.join(args)} failed:\n{error.stdout}{error.stderr}", 2) from error
    except subprocess.TimeoutExpired as error:
        raise BenchError(f"{' '.join(args)} took more than 180 s", 2) from error
    return done.stdout


@contextlib.contextmanager
def gunicorn(
    env: dict[str, str], port: int, workers: int, log: Path, threads: int = 1
) -> Iterator[int]:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "example_project.wsgi",
        # The example's settings: its workers warm up before their first request.
        "--config",
        "python:example_project.gunicorn_conf",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync" if threads == 1 else "gthread",
        "--threads",
        str(threads),
        "--log-level",
        "warning",
        "--error-logfile",
        str(log),
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603
    try:
        wait_until_serving(process, port, log)
        yield process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_until_serving(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 30
    url = f"http://127.0.0.1:{port}{BASELINE_PATH}"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    raise BenchError(f"gunicorn did not serve {url} within 30 s:\n{tail}", 2)


# wrk ------------------------------------------------------------------------

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return float(match[1]) * _UNITS_MS[match[2]]


def parse_wrk(output: str, active_seconds: float) -> WrkResult:
    requests = re.search(r"^\s*(\d+) requests in ", output, re.MULTILINE)
    sent = re.search(r"^bench: requests sent (\d+)", output, re.MULTILINE)
    p50 = re.search(r"^\s*50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s*99%\s+(\S+)", output, re.MULTILINE)
    if not (requests and sent and p50 and p99):
        raise BenchError(f"cannot read wrk's output:\n{output}", 1)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests=int(requests[1]),
        sent=int(sent[1]),
        non_2xx_3xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=dict(
            zip(
                ("connect", "read", "write", "timeout"),
                (int(n) for n in socket_errors.groups()) if socket_errors else (0, 0, 0, 0),
                strict=True,
            )
        ),
        p50_ms=_duration_ms(p50[1]),
        p99_ms=_duration_ms(p99[1]),
        active_seconds=active_seconds,
    )


def run_wrk(
    url: str, headers: dict[str, str], seconds: float, tail: float, options: Options
) -> WrkResult:
    command = [
        "wrk",
        "--threads",
        str(options.threads),
        "--connections",
        str(options.connections),
        "--duration",
        # wrk takes whole seconds; the tail is at least the quiet time asked for.
        f"{math.ceil(seconds + tail)}s",
        "--timeout",
        "10s",
        "--latency",
        "--script",
        str(QUIET_TAIL),
    ]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    command += [url, "--", str(seconds)]
    try:
        done = subprocess.run(  # noqa: S603
            command, capture_output=True, text=True, timeout=seconds + tail + 30, check=True
        )
    except subprocess.CalledProcessError as error:
        raise BenchError(
            f"wrk failed ({error.returncode}): {error.stdout}{error.stderr}", 1
        ) from error
    except subprocess.TimeoutExpired as error:
        raise BenchError("wrk did not finish in time", 1) from error
    return parse_wrk(done.stdout, seconds)


def process_cpu(pids: list[int]) -> dict[int, float]:
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            # Fields after the command name, which may itself hold spaces.
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


def child_pids(pid: int) -> list[int]:
    with contextlib.suppress(OSError):
        return [
            int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ]
    return []


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured_run(
    url: str, headers: dict[str, str], master: int, database: Database, options: Options
) -> WrkResult:
    """One wrk run, with the CPU time the server and wrk spent on it."""
    before = process_cpu([master, *child_pids(master), *database.backend_pids()])
    client_before = children_cpu()
    result = run_wrk(url, headers, options.duration, options.tail, options)
    result.client_cpu = children_cpu() - client_before
    # Database backends started during the run count from zero; one that
    # ended during it (CONN_MAX_AGE) is missed.
    backends = database.backend_pids()
    after = process_cpu([master, *child_pids(master), *backends])
    spent = {pid: cpu - before.get(pid, 0.0) for pid, cpu in after.items()}
    result.server_cpu = sum(spent.values())
    result.database_cpu = sum(spent.get(pid, 0.0) for pid in backends)
    result.load_average = os.getloadavg()[0]
    return result


def settle(database: Database, quiet: float = 0.2) -> int:
    # Workers may still be committing the last hits when wrk returns; buffered
    # ones store them within their interval, so wait for longer than that.
    deadline = time.monotonic() + 10 + quiet
    count = database.count()
    still_since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        again = database.count()
        if again != count:
            count, still_since = again, time.monotonic()
        elif time.monotonic() - still_since >= quiet:
            return count
    return count


# The run --------------------------------------------------------------------


def beacon_url(env: dict[str, str], port: int, signed: bool) -> str:
    base = f"http://127.0.0.1:{port}"
    if not signed:
        return base + BEACON_PATH
    link = manage(env, "lambdactr_snippet", "--base-url", base, base + PAGE_PATH)
    match = re.search(r'href="([^"]+)"', link)
    if not match:
        raise BenchError(f"no link in lambdactr_snippet's output: {link!r}", 2)
    return match[1].replace("&amp;", "&")


def mode_env(
    env: dict[str, str], mode: str, tmp: Path, options: Options, ingest_url: str = ""
) -> dict[str, str]:
    # Each server spools (and, buffered, journals) in a directory of its own.
    spool = tmp / f"spool-{mode}"
    extra = {"LAMBDACTR_SPOOL_DIR": str(spool)}
    if mode == "buffered":
        extra["LAMBDACTR_BUFFER_SECONDS"] = str(options.buffer_seconds)
    if mode == "broker":
        extra["LAMBDACTR_INGEST_URL"] = ingest_url
    return {**env, **extra}


@contextlib.contextmanager
def redis_server(tmp: Path) -> Iterator[str]:
    """A redis-server of the run's own, configured as docs/scaling.md says: AOF, everysec."""
    port = free_port()
    directory = tmp / "redis"
    directory.mkdir()
    process = subprocess.Popen(  # noqa: S603
        [
            shutil.which("redis-server") or "redis-server",
            *("--bind", "127.0.0.1", "--port", str(port), "--dir", str(directory)),
            *("--save", "", "--appendonly", "yes", "--appendfsync", "everysec"),
            *("--logfile", str(directory / "log")),
        ],
        cwd=directory,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
                break
            time.sleep(0.1)
        else:
            raise BenchError("redis-server did not start", 2)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.kill()
        process.wait(timeout=10)


@contextlib.contextmanager
def ingest_consumer(env: dict[str, str], log: Path) -> Iterator[int]:
    """One lambdactr_ingest beside the broker mode's server; its pid."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "lambdactr_ingest"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def bench_database(kind: str, options: Options) -> list[DatabaseRun]:
    runs = {mode: DatabaseRun(database=kind, mode=mode) for mode in options.modes}
    with (
        scratch_database(kind, options) as database,
        tempfile.TemporaryDirectory() as tmp,
        contextlib.ExitStack() as servers,
    ):
        env = server_env(database, options)
        manage(env, "migrate", "--noinput")
        ports = {mode: free_port() for mode in options.modes}
        ingest_url = (
            servers.enter_context(redis_server(Path(tmp))) if "broker" in options.modes else ""
        )
        envs = {mode: mode_env(env, mode, Path(tmp), options, ingest_url) for mode in options.modes}
        base = f"http://127.0.0.1:{ports[options.modes[0]]}"
        headers = {**BROWSER_HEADERS, "Referer": base + PAGE_PATH}
        beacons = {
            mode: beacon_url(envs[mode], ports[mode], options.signed) for mode in options.modes
        }
        # The empty view is served by the first mode's server: it stores nothing,
        # so the mode makes no difference to it.
        baseline = base + BASELINE_PATH
        plain = base + PLAIN_PATH
        print(
            f"\n== {database.label}: gunicorn {workers_text(options)} per mode "
            f"({', '.join(options.modes)}); wrk "
            f"{options.threads} thread(s), {options.connections} connections, "
            f"{options.duration:g} s per run, {options.rounds} rounds; beacon door {options.door}",
            flush=True,
        )
        for mode, beacon in beacons.items():
            extra = f" (LAMBDACTR_BUFFER_SECONDS={options.buffer_seconds:g})"
            print(f"   {mode} beacon: {beacon}{extra if mode == 'buffered' else ''}", flush=True)
        if options.server_env or options.db_query:
            print(f"   server: {options.server_env} {options.db_query}", flush=True)
        masters = {
            mode: servers.enter_context(
                gunicorn(
                    envs[mode],
                    ports[mode],
                    options.workers,
                    Path(tmp) / f"{mode}.log",
                    options.worker_threads,
                )
            )
            for mode in options.modes
        }
        if "broker" in options.modes:
            servers.enter_context(ingest_consumer(envs["broker"], Path(tmp) / "ingest.log"))
        # Buffered rows reach the table within the interval; the broker's
        # within a consumer's batch.
        quiet = options.buffer_seconds + 0.5 if "buffered" in options.modes else 0.2
        if "broker" in options.modes:
            quiet = max(quiet, 1.0)
        sides = ["baseline", "plain", *options.modes]
        urls = {"baseline": baseline, "plain": plain, **beacons}
        for side in sides:
            run_wrk(urls[side], headers, options.warmup, options.tail, options)
        settle(database, quiet)
        database.empty()
        print(table_header(), flush=True)
        for number in range(1, options.rounds + 1):
            # Rotate which goes first, so drift in the machine's load does not
            # always favour the same side.
            shift = (number - 1) % len(sides)
            results: dict[str, tuple[WrkResult, int]] = {}
            for side in sides[shift:] + sides[:shift]:
                mode = side if side in options.modes else options.modes[0]
                result = measured_run(urls[side], headers, masters[mode], database, options)
                rows = settle(database, quiet)
                database.empty()
                results[side] = (result, rows)
            for mode in options.modes:
                current = Round(
                    number=number,
                    baseline=results["baseline"][0],
                    beacon=results[mode][0],
                    baseline_rows=results["baseline"][1] + results["plain"][1],
                    beacon_rows=results[mode][1],
                    plain=results["plain"][0],
                )
                runs[mode].rounds.append(current)
                print(f"{round_line(current)}  {mode}", flush=True)
        for mode in options.modes:
            runs[mode].cold_starts = cold_starts(
                envs[mode], Path(tmp), beacons[mode], headers, options
            )
        # The floor: gunicorn's own first request, with no Django and no beacon.
        plain_starts = cold_starts(envs[options.modes[0]], Path(tmp), plain, headers, options)
    for run in runs.values():
        run.plain_cold_starts = plain_starts
        print(f"{run.label}: {summary_lines(run)}", flush=True)
        if run.cold_starts:
            print(coldstart.summary_line(run.label, run.cold_starts), flush=True)
    if plain_starts:
        print(coldstart.summary_line(f"{kind}/plain WSGI", plain_starts), flush=True)
    return list(runs.values())


def cold_starts(
    env: dict[str, str], tmp: Path, beacon: str, headers: dict[str, str], options: Options
) -> list[coldstart.ColdStart]:
    # The beacon's path and query, sent to a server of its own on another port.
    parts = urllib.parse.urlsplit(beacon)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    found = []
    for _ in range(options.cold_starts):
        try:
            found.append(coldstart.measure(env, ROOT, tmp, free_port(), target, headers))
        except (RuntimeError, OSError) as error:
            raise BenchError(str(error), 2) from error
    return found


def workers_text(options: Options) -> str:
    if options.worker_threads == 1:
        return f"{options.workers} sync workers"
    return f"{options.workers} gthread workers of {options.worker_threads} threads"


def table_header() -> str:
    return (
        f"{'round':>5}  {'empty rps':>9} {'p50':>7} {'p99':>7} {'cpu/req':>8}  "
        f"{'beacon rps':>10} {'p50':>7} {'p99':>7} {'cpu/req':>8}  {'ratio':>5} "
        f"{'cpu ratio':>9}  {'load':>4}  rows stored / 2xx"
    )


def _ms(value: float) -> str:
    return f"{value:.2f}ms"


def round_line(current: Round) -> str:
    a, b = current.baseline, current.beacon
    verdict = "ok" if not current.failures() else "FAILED"
    if b.in_flight:
        verdict += f" ({b.in_flight} in flight)"
    return (
        f"{current.number:>5}  {a.rps:>9,.0f} {_ms(a.p50_ms):>7} {_ms(a.p99_ms):>7} "
        f"{a.cpu_us:>6,.0f}us  {b.rps:>10,.0f} {_ms(b.p50_ms):>7} {_ms(b.p99_ms):>7} "
        f"{b.cpu_us:>6,.0f}us  {current.ratio:>5.2f} {current.cpu_ratio:>9.2f}  "
        f"{max(a.load_average, b.load_average):>4.1f}  "
        f"{current.beacon_rows:,} / {b.ok_responses:,} {verdict}  "
        f"(plain WSGI {current.plain_ratio:.2f})"
    )


def _median_range(values: list[float], fmt: str) -> str:
    return (
        f"{format(statistics.median(values), fmt)} "
        f"({format(min(values), fmt)} to {format(max(values), fmt)})"
    )


def summary(run: DatabaseRun) -> dict[str, Any]:
    rounds = run.rounds
    return {
        "baseline_rps": statistics.median(r.baseline.rps for r in rounds),
        "beacon_rps": statistics.median(r.beacon.rps for r in rounds),
        "ratio_median": statistics.median(r.ratio for r in rounds),
        "ratio_min": min(r.ratio for r in rounds),
        "ratio_max": max(r.ratio for r in rounds),
        "baseline_cpu_us": statistics.median(r.baseline.cpu_us for r in rounds),
        "beacon_cpu_us": statistics.median(r.beacon.cpu_us for r in rounds),
        "cpu_ratio_median": statistics.median(r.cpu_ratio for r in rounds),
        "cpu_ratio_min": min(r.cpu_ratio for r in rounds),
        "cpu_ratio_max": max(r.cpu_ratio for r in rounds),
        "rows": sum(r.beacon_rows for r in rounds),
        "ok_responses": sum(r.beacon.ok_responses for r in rounds),
        "plain_rps": statistics.median(r.plain.rps if r.plain else 0.0 for r in rounds),
        "plain_ratio_median": statistics.median(r.plain_ratio for r in rounds),
        "plain_ratio_min": min(r.plain_ratio for r in rounds),
        "plain_ratio_max": max(r.plain_ratio for r in rounds),
    }


def summary_lines(run: DatabaseRun) -> str:
    rounds = run.rounds
    lines = ["median (range) over rounds:"]
    for name, attr in (("empty view", "baseline"), ("beacon", "beacon")):
        results = [getattr(r, attr) for r in rounds]
        lines.append(
            f"  {name:<10}  rps {_median_range([x.rps for x in results], ',.0f')}"
            f"  p50 {_median_range([x.p50_ms for x in results], '.2f')} ms"
            f"  p99 {_median_range([x.p99_ms for x in results], '.2f')} ms"
            f"  cpu/req {_median_range([x.cpu_us for x in results], ',.0f')} us"
        )
    backend = statistics.median(r.beacon.database_cpu_us for r in rounds)
    if backend:
        lines.append(f"  of the beacon's cpu/req, in database server processes: {backend:,.0f} us")
    figures = summary(run)
    lines.append(f"  ratio beacon/empty {_median_range([r.ratio for r in rounds], '.2f')}")
    lines.append(
        f"  plain WSGI/empty   {_median_range([r.plain_ratio for r in rounds], '.2f')}"
        "  (the ceiling: no Django, no beacon)"
    )
    lines.append(f"  cpu ratio          {_median_range([r.cpu_ratio for r in rounds], '.2f')}")
    lines.append(f"  rows stored {figures['rows']:,} for {figures['ok_responses']:,} 2xx responses")
    return "\n".join(lines)


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB memory"
    load = ", load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    return f"{os.cpu_count()} cores ({model}){memory}{load}"


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(sys.argv[1:] if argv is None else argv)
    # Stopped from outside (CI's timeout, Ctrl-C, even when started in the
    # background with SIGINT ignored): still stop gunicorn and drop the database.
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if shutil.which("wrk") is None:
        print("wrk is not installed (bash bench/run installs it)", file=sys.stderr)
        return 2
    print(f"machine: {machine()}")
    runs: list[DatabaseRun] = []
    try:
        for kind in options.databases:
            runs.extend(bench_database(kind, options))
    except BenchError as error:
        print(f"\nbench: {error}", file=sys.stderr)
        return error.exit_code
    print("\n== summary (medians over rounds; ratio range in brackets)")
    for run in runs:
        figures = summary(run)
        print(
            f"  {run.label:<18}  empty {figures['baseline_rps']:>7,.0f} rps  "
            f"beacon {figures['beacon_rps']:>7,.0f} rps  ratio {figures['ratio_median']:.2f} "
            f"({figures['ratio_min']:.2f} to {figures['ratio_max']:.2f})  "
            f"cpu ratio {figures['cpu_ratio_median']:.2f} "
            f"({figures['cpu_ratio_min']:.2f} to {figures['cpu_ratio_max']:.2f})  "
            f"rows {figures['rows']:,} / 2xx {figures['ok_responses']:,}  "
            f"plain WSGI limit {figures['plain_ratio_median']:.2f} "
            f"({figures['plain_ratio_min']:.2f} to {figures['plain_ratio_max']:.2f})"
        )
    if options.json_path:
        options.json_path.write_text(
            json.dumps(
                {
                    "machine": machine(),
                    "options": {k: str(v) for k, v in asdict(options).items()},
                    "runs": [
                        {
                            "database": run.database,
                            "mode": run.mode,
                            "summary": summary(run),
                            "cold_starts": [
                                {
                                    **asdict(start),
                                    "ratio": start.ratio,
                                    "paused_ratio": start.paused_ratio,
                                }
                                for start in run.cold_starts
                            ],
                            "plain_cold_starts": [
                                {
                                    **asdict(start),
                                    "ratio": start.ratio,
                                    "paused_ratio": start.paused_ratio,
                                }
                                for start in run.plain_cold_starts
                            ],
                            "rounds": [
                                {
                                    **asdict(r),
                                    "ratio": r.ratio,
                                    "baseline_rps": r.baseline.rps,
                                    "beacon_rps": r.beacon.rps,
                                    "cpu_ratio": r.cpu_ratio,
                                    "baseline_cpu_us": r.baseline.cpu_us,
                                    "beacon_cpu_us": r.beacon.cpu_us,
                                    "plain_ratio": r.plain_ratio,
                                }
                                for r in run.rounds
                            ],
                        }
                        for run in runs
                    ],
                },
                indent=2,
            )
        )
    for warning in (w for run in runs for r in run.rounds for w in r.warnings()):
        print(f"bench: warning: {warning}", file=sys.stderr)
    failures = [f for run in runs for r in run.rounds for f in r.failures()]
    for failure in failures:
        print(f"bench: FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
