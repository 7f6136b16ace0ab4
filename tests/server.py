"""Real servers for the tests: gunicorn serving the app, and throwaway PostgreSQL clusters.

Everything listens on 127.0.0.1 only, and every wait here is bounded.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("LAMBDACTR_PG_BIN", "/usr/lib/postgresql/15/bin"))
# The system server: used to create scratch databases for the load tests.
ADMIN_DATABASE_URL = os.environ.get(
    "LAMBDACTR_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
HOST = "counter.example"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def server_env(database_url: str, spool_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.server_settings",
        "SERVER_DATABASE_URL": database_url,
        "LAMBDACTR_SPOOL_DIR": str(spool_dir),
        "PYTHONPATH": str(ROOT),
    }
    env.update(extra)
    return env


def manage(
    env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "django", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Gunicorn:
    env: dict[str, str]
    workers: int = 2
    # Above 1, gunicorn's threaded worker: one process (one LocMem cache) that
    # still serves several connections at once.
    threads: int = 1
    # More gunicorn options, e.g. ["--max-requests", "1000"].
    args: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    log_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="lambdactr-gu-")))
    process: subprocess.Popen[bytes] | None = None

    @property
    def access_log(self) -> Path:
        return self.log_dir / "access.log"

    @property
    def error_log(self) -> Path:
        return self.log_dir / "error.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Gunicorn:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "example_project.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--access-logfile",
                str(self.access_log),
                "--access-logformat",
                '%(s)s "%(r)s"',
                "--capture-output",
                "--error-logfile",
                str(self.error_log),
                "--graceful-timeout",
                "10",
                "--timeout",
                "30",
                *self.args,
            ],
            env=self.env,
            cwd=ROOT,
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def statuses(self, path: str = "/ctr/s.css") -> list[int]:
        """The status of every logged request for ``path``."""
        if not self.access_log.exists():
            return []
        lines = self.access_log.read_text().splitlines()
        return [int(line.split()[0]) for line in lines if f" {path}" in line]

    def log_text(self) -> str:
        return self.error_log.read_text() if self.error_log.exists() else ""

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def get(
    url: str, timeout: float = 10.0, headers: dict[str, str] | None = None
) -> tuple[int, float]:
    """GET ``url``; the status and how long the answer took."""
    request = urllib.request.Request(url, headers={"Host": HOST, **(headers or {})})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.monotonic() - started


@dataclass
class Cluster:
    """A PostgreSQL server of its own in a temporary directory, to stop and start at will."""

    port: int = field(default_factory=free_port)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="lambdactr-pg-")))

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = [str(PG_BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:
            # initdb and postgres refuse to run as root.
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)

    def init(self) -> Cluster:
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-N")
        return self.start()

    def start(self) -> Cluster:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.directory / "log"),
            "-w",
            "-t",
            "30",
            "start",
        )
        return self

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A new database on the system PostgreSQL server, dropped afterwards."""
    name = f"{prefix}_{os.getpid()}_{time.time_ns() % 10**9}"
    base = ADMIN_DATABASE_URL.rsplit("/", 1)[0]
    with psycopg.connect(ADMIN_DATABASE_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(ADMIN_DATABASE_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def stored_rows(database_url: str) -> list[dict[str, object]]:
    with (
        psycopg.connect(database_url) as connection,
        connection.cursor(row_factory=psycopg.rows.dict_row) as cursor,
    ):
        cursor.execute("SELECT * FROM lambdactr_django_headerhit")
        return list(cursor.fetchall())


def count_rows(database_url: str) -> int:
    with psycopg.connect(database_url) as connection:
        row = connection.execute("SELECT count(*) FROM lambdactr_django_headerhit").fetchone()
        assert row is not None
        return int(row[0])


REDIS_SERVER = shutil.which("redis-server")


@dataclass
class Redis:
    """A redis-server of the test's own on a free loopback port, to kill and restart at will.

    It keeps its data in an append-only file fsynced before each answer, as a
    broker that must not lose an accepted hit is configured (docs/scaling.md):
    a restart, even after SIGKILL, finds the stream as it was. The file is in
    memory (/dev/shm) where there is one: a process restart is what is tested,
    and on a shared disk an fsync per answer can take 150 ms.
    """

    port: int = field(default_factory=free_port)
    directory: Path = field(
        default_factory=lambda: Path(
            tempfile.mkdtemp(
                prefix="lambdactr-redis-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None
            )
        )
    )
    process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> Redis:
        assert REDIS_SERVER is not None
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.directory),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--logfile",
                str(self.directory / "log"),
            ],
            cwd=self.directory,
        )
        wait_for_port(self.port)
        return self

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def destroy(self) -> None:
        self.kill()
        shutil.rmtree(self.directory, ignore_errors=True)
