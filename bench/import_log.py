"""Time lambdactr_import_log on a generated access log, and measure its peak memory.

Usage: .venv/bin/python bench/import_log.py [--lines 1000000] [--databases sqlite,postgres]
                                            [--pg-url postgres://postgres@127.0.0.1:5432/postgres]

Writes a gzipped combined log of ``--lines`` lines (tests/logs/sample.py's
generator: about half page views over 30 days, the rest assets, errors,
redirects, POSTs; some bots), then for each database makes a scratch one
(a temporary SQLite file; a PostgreSQL database ``lambdactr_bench_import``
made and dropped on the server of ``--pg-url``), migrates it, and runs the
command in a child process twice: the import, then the same file again, which
must store nothing. Prints per run the wall time, lines per second, the
child's CPU time (user and system: on a shared machine the fairer figure),
its peak RSS (``wait4``'s ``ru_maxrss``) and the hits stored. The database
server's own CPU is not counted.
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

import django  # noqa: E402

# The generator's module (tests/logs/sample.py) imports the models.
django.setup()

from tests.logs.sample import generate  # noqa: E402

SCRATCH = "lambdactr_bench_import"


def _run(args: list[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    started = time.monotonic()
    child = subprocess.Popen(  # noqa: S603
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert child.stdout is not None
    output = child.stdout.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - started
    if child.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{output}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, output


def _stored(output: str) -> str:
    for line in output.splitlines():
        if line.startswith("Read "):
            return line.split(": ", 1)[1]
    return "?"


def _postgres(url: str, action: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {SCRATCH}")
        if action == "create":
            connection.execute(f"CREATE DATABASE {SCRATCH}")
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{SCRATCH}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lambdactr-bench-import-") as scratch:
        log = Path(scratch) / "access.log.1"
        started = time.monotonic()
        with gzip.open(log, "wt", compresslevel=1) as file:
            for line in generate(args.lines):
                file.write(line + "\n")
        print(
            f"{args.lines:,} lines, {log.stat().st_size / 1e6:.1f} MB gzipped, "
            f"written in {time.monotonic() - started:.1f} s",
            flush=True,
        )
        for database in args.databases.split(","):
            if database == "sqlite":
                url = f"sqlite:///{scratch}/bench.sqlite3"
            else:
                url = _postgres(args.pg_url, "create")
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "example_project.settings",
                "DATABASE_URL": url,
                "DEBUG": "False",
                "SECRET_KEY": "bench-import-log-not-secret",
                "ALLOWED_HOSTS": "blog.example",
                "LAMBDACTR_SPOOL_DIR": scratch,
            }
            try:
                _run(["migrate", "-v", "0"], env)
                for label in ("import", "again"):
                    elapsed, cpu, peak_kib, output = _run(
                        ["lambdactr_import_log", str(log), "--site", "blog.example"], env
                    )
                    print(
                        f"{database:8} {label:6} {elapsed:6.1f} s wall "
                        f"({args.lines / elapsed:7,.0f} lines/s), {cpu:6.1f} s CPU "
                        f"({args.lines / cpu:7,.0f} lines/CPU-s), peak RSS "
                        f"{peak_kib / 1024:5.1f} MiB; {_stored(output)}",
                        flush=True,
                    )
            finally:
                if database != "sqlite":
                    _postgres(args.pg_url, "drop")


if __name__ == "__main__":
    main()
