"""The processes and databases the browser tests talk to.

``ExampleSite`` is example_project served by gunicorn on a throwaway database;
``HitStore`` reads that database directly; ``LittleServer`` is a tiny
threaded HTTP server for static pages on another origin, and slow responses.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[2]
TABLE = "lambdactr_django_headerhit"
ROLLUP_TABLES = ("lambdactr_django_rollup", "lambdactr_django_rolledday")
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "e2e-" + secrets.token_urlsafe(12)

STARTUP_TIMEOUT = 30.0
COMMAND_TIMEOUT = 120.0


def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgres")


def _psycopg_url(database_url: str, dbname: str | None = None) -> str:
    parts = urlsplit(database_url)
    # libpq knows postgres:// and postgresql://; django-environ knows a few more.
    parts = parts._replace(scheme="postgresql")
    if dbname is not None:
        parts = parts._replace(path="/" + dbname)
    return parts.geturl()


class ThrowawayDatabase:
    """A database made for one test session and removed after it."""

    def __init__(self, server_url: str | None, tmp_dir: Path) -> None:
        self.server_url = server_url
        if server_url is not None and is_postgres(server_url):
            self.name = "lambdactr_e2e_" + secrets.token_hex(6)
            self.url = urlsplit(server_url)._replace(path="/" + self.name).geturl()
            self._admin("CREATE DATABASE {}")
        else:
            self.name = str(tmp_dir / "e2e.sqlite3")
            self.url = "sqlite:///" + self.name

    def drop(self) -> None:
        if self.server_url is not None and is_postgres(self.server_url):
            # FORCE: gunicorn's kept-alive connections may not be gone yet.
            self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")

    def _admin(self, statement: str) -> None:
        import psycopg
        from psycopg import sql

        assert self.server_url is not None
        with psycopg.connect(
            _psycopg_url(self.server_url, "postgres"), autocommit=True, connect_timeout=10
        ) as connection:
            connection.execute(sql.SQL(statement).format(sql.Identifier(self.name)))


class HitStore:
    """The stored page views, read straight from the database gunicorn writes to."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._connection: Any = None

    def _connect(self) -> Any:
        if self._connection is None:
            if is_postgres(self.database_url):
                import psycopg

                self._connection = psycopg.connect(
                    _psycopg_url(self.database_url), autocommit=True, connect_timeout=10
                )
            else:
                path = self.database_url.removeprefix("sqlite:///")
                self._connection = sqlite3.connect(path, timeout=10, isolation_level=None)
        return self._connection

    def rows(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Every column of every hit (of ``kind``: "view" or "visitor"), oldest first;
        headers decoded to a dict."""
        cursor = self._connect().execute(f"SELECT * FROM {TABLE} ORDER BY created_at")
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
        for row in rows:
            if isinstance(row["headers"], str):
                row["headers"] = json.loads(row["headers"])
            # SQLite hands booleans back as 0 and 1.
            for column in ("verified", "is_bot", "dnt", "gpc"):
                row[column] = bool(row[column])
        return [row for row in rows if kind is None or row["kind"] == kind]

    def clear(self) -> None:
        self._connect().execute(f"DELETE FROM {TABLE}")

    def clear_rollups(self) -> None:
        """Forget what lambdactr_seed (or the page) rolled up, for the next test."""
        for table in ROLLUP_TABLES:
            self._connect().execute(f"DELETE FROM {table}")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@dataclass
class ExampleSite:
    """example_project as deployed: gunicorn, DEBUG off, collected static files."""

    database_url: str
    static_root: Path
    log_path: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("LAMBDACTR_", "DJANGO_"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="example_project.settings",
            DEBUG="False",
            SECRET_KEY="test",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            DATABASE_URL=self.database_url,
            # Days, and so visitor-days, end at midnight UTC.
            TIME_ZONE="UTC",
            STATIC_ROOT=str(self.static_root),
            PYTHONUNBUFFERED="1",
        )
        self.env = env

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"

    @property
    def stylesheet_url(self) -> str:
        """The page-view link's address (before its query)."""
        return f"{self.base_url}/ctr/s.css"

    @property
    def visitor_day_url(self) -> str:
        """The visitor link's address (before its query)."""
        return f"{self.base_url}/ctr/d.css"

    def url(self, path: str) -> str:
        return self.base_url + path

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"manage.py {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result.stdout

    def prepare(self) -> None:
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")
        self.manage("example_setup", "--username", ADMIN_USERNAME, "--password", ADMIN_PASSWORD)

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "example_project.wsgi",
            # Port 0: the kernel picks a free port, read back from the log.
            "--bind",
            "127.0.0.1:0",
            # Threads, so a browser's idle preconnect cannot hold the only worker.
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--graceful-timeout",
            "5",
            "--access-logfile",
            "-",
            *_control_socket_off(),
        ]
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        self.port = self._wait_for_port()
        self._wait_until_serving()

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        for _ in range(int(STARTUP_TIMEOUT / 0.05)):
            match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", self.log())
            if match:
                return int(match.group(1))
            assert self.process is not None
            if self.process.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        raise RuntimeError(f"gunicorn did not start:\n{self.log()}")

    def _wait_until_serving(self) -> None:
        # The login page: answering it needs the app, the database and no hit is stored.
        url = self.url("/admin/login/")
        deadline = time.monotonic() + STARTUP_TIMEOUT
        for _ in range(int(STARTUP_TIMEOUT / 0.1)):
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn does not answer {url}:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def served(self, since: int = 0) -> list[tuple[str, int]]:
        """(path, status) of each request gunicorn answered, from offset ``since`` of
        its log on: what reached the server, not what the browser took from its cache."""
        found = re.findall(r'"GET (\S+) HTTP/[\d.]+" (\d{3}) ', self.log()[since:])
        return [(urlsplit(target).path, int(status)) for target, status in found]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def _control_socket_off() -> list[str]:
    # gunicorn >= 24 opens a control socket in ~/.gunicorn, shared by every
    # instance on the machine; the tests need none.
    from gunicorn.config import KNOWN_SETTINGS

    if any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS):
        return ["--no-control-socket"]
    return []


@dataclass
class Route:
    """What ``LittleServer`` answers for one path."""

    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    # Seconds to wait before answering (or before asking ``upstream``).
    delay: float = 0.0
    # Forward the request, query string and headers included, to this origin.
    upstream: str | None = None


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    received: float
    answered: float | None = None


# Hop-by-hop headers, and Host, which must name the upstream.
_NOT_FORWARDED = frozenset(
    {"host", "connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"}
)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        little = self.server.little
        seen = Seen(self.path, dict(self.headers.items()), time.monotonic())
        little.seen.append(seen)
        route = little.routes.get(urlsplit(self.path).path)
        status, headers, body = 404, {"Content-Type": "text/plain"}, b""
        if route is not None:
            time.sleep(route.delay)
            if route.upstream:
                status, headers, body = self._forward(route.upstream)
            else:
                status, body = 200, route.body
                headers = {"Content-Type": route.content_type, "Cache-Control": "no-store"}
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        seen.answered = time.monotonic()

    def _forward(self, upstream: str) -> tuple[int, dict[str, str], bytes]:
        target = urlsplit(upstream)
        connection = http.client.HTTPConnection(target.netloc, timeout=10)
        try:
            headers = {
                name: value
                for name, value in self.headers.items()
                if name.lower() not in _NOT_FORWARDED
            }
            connection.request("GET", self.path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            kept = {
                name: value
                for name, value in response.getheaders()
                if name.lower() not in _NOT_FORWARDED | {"content-length", "date", "server"}
            }
            return response.status, kept, body
        finally:
            connection.close()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    little: LittleServer


class LittleServer:
    """Serves ``routes`` on 127.0.0.1 (reachable as localhost too) from a thread."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.little = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def requests_for(self, path: str) -> list[Seen]:
        return [seen for seen in self.seen if urlsplit(seen.path).path == path]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def static_page(title: str, head: str = "", body: str = "") -> bytes:
    # The empty icon keeps the browser from asking for /favicon.ico.
    return (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
        f'<title>{title}</title><link rel="icon" href="data:,">\n{head}\n</head>\n'
        f"<body><h1>{title}</h1>\n{body}\n</body></html>\n"
    ).encode()
