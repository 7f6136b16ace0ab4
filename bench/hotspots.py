"""Where a gunicorn worker's time goes while wrk loads the beacon.

Usage: .venv/bin/python bench/hotspots.py [--database postgres|sqlite] [--seconds 20]
       [--path /ctr/s.css] [--env NAME=VALUE ...] [--db-query QUERY] [--cpu] [--raw FILE]

Starts the example project as bench/run does (scratch database, gunicorn sync
workers = cores, DEBUG off), loads it with wrk and the same browser headers,
and samples every worker with py-spy (``record --subprocesses --idle``, so time
spent waiting on the database counts too). Each sample is charged to the
innermost of the regions below that its stack is in, and the share of samples
per region is printed: a flat profile of one request's wall time, by layer.
With ``--cpu`` samples where the worker was blocked are left out (one ready
to run but waiting for a core still counts: on a busy machine, that is most of
the time after each wake-up).
``--env`` passes settings to the server (e.g. ``CONN_HEALTH_CHECKS=False``).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import beacon

# (region, pattern over one "Qualified.name (file:line)" frame). A sample is
# charged to the last region, walking from the root to the leaf, that one of
# its frames matches: the innermost layer it was in.
REGIONS = [
    ("gunicorn: accept, read and parse, write", r"\(gunicorn/"),
    ("gunicorn: closing (waits for the client to close)", r"^close_graceful \(gunicorn/"),
    ("Django: WSGI handler, URL resolving", r"\(django/core/handlers/(wsgi|base)\.py"),
    (
        "middleware",
        r"\(django/utils/deprecation\.py|\(django/middleware/"
        r"|\(django/contrib/\w+/middleware\.py|\(whitenoise/",
    ),
    ("view: decorators, response, glue", r"\(django/views/decorators/|\(\w+/views\.py"),
    (
        "fast path: matching, request, Django's signals, the answer",
        r"\(lambdactr_django/beacon/(fastpath|answers)\.py",
    ),
    (
        "capture (headers, privacy rules, token)",
        r"\(lambdactr_django/beacon/(capture|clean|signing)\.py",
    ),
    ("buffer: the journal line and its write()", r"\(lambdactr_django/store/(buffer|rows)\.py"),
    ("buffer: the flusher thread", r"^_run \(lambdactr_django/store/buffer\.py"),
    ("buffer: the flusher's COPY", r"^copy_records \(lambdactr_django/store/database\.py"),
    ("ORM: Model.__init__", r"^Model\.__init__ \("),
    ("ORM: manager, save(), signals, compiling the INSERT", r"\(django/db/models/"),
    ("store: building the INSERT's parameters", r"\(lambdactr_django/store/database\.py"),
    ("DB: the INSERT (commits itself: autocommit)", r"^CursorWrapper\._execute \("),
    ("DB: health check SELECT 1 (CONN_HEALTH_CHECKS)", r"^DatabaseWrapper\.is_usable \("),
    ("DB: connecting", r"^(Base)?DatabaseWrapper\.(connect|get_new_connection) \("),
    ("Django: request_finished, close_old_connections", r"^close_old_connections \("),
]
_COMPILED = [(name, re.compile(pattern)) for name, pattern in REGIONS]
# psycopg's I/O loop: blocked on PostgreSQL's answer, or in psycopg's C code
# sending the query and reading the result (py-spy sees no frames below it).
_WAITING = re.compile(r"^Connection\.wait \(psycopg/")


def region_of(stack: list[str]) -> str:
    found = "other (worker loop, signals, ...)"
    for frame in stack:
        for name, pattern in _COMPILED:
            if pattern.search(frame):
                found = name
    if stack and _WAITING.search(stack[-1]):
        found += ", in psycopg's wait loop"
    return found


def summarise(raw: str) -> list[tuple[str, int]]:
    totals: collections.Counter[str] = collections.Counter()
    for line in raw.splitlines():
        stack_text, _, count = line.rpartition(" ")
        if not stack_text or not count.isdigit():
            continue
        parts = stack_text.split(";")
        # py-spy prefixes each stack with its processes: the master, then the
        # worker. The master only waits for signals: leave it out.
        if sum(part.startswith("process ") for part in parts) < 2:
            continue
        frames = [part for part in parts if not part.startswith(("process ", "thread "))]
        totals[region_of(frames)] += int(count)
    return totals.most_common()


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench/hotspots.py", description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--seconds", type=int, default=20, help="seconds of sampling")
    parser.add_argument("--path", default=beacon.BEACON_PATH, help="URL path to load")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server")
    parser.add_argument("--db-query", default="", help="as bench/run's --db-query")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="leave out samples where the worker was blocked (py-spy counts a worker that is "
        "ready to run but waiting for a core as active)",
    )
    parser.add_argument("--raw", type=Path, help="keep py-spy's collapsed stacks here")
    args = parser.parse_args()
    options = beacon.parse_args(["--databases", args.database, "--db-query", args.db_query])
    seconds = max(5, min(args.seconds, 300))
    with (
        beacon.scratch_database(args.database, options) as database,
        tempfile.TemporaryDirectory() as tmp,
    ):
        env = beacon.server_env(database, options)
        env.update(item.split("=", 1) for item in args.env)
        beacon.manage(env, "migrate", "--noinput")
        port = beacon.free_port()
        base = f"http://127.0.0.1:{port}"
        headers = {**beacon.BROWSER_HEADERS, "Referer": base + beacon.PAGE_PATH}
        log = Path(tmp) / "gunicorn.log"
        with beacon.gunicorn(env, port, options.workers, log) as master:
            beacon.run_wrk(base + args.path, headers, 2, 1, options)
            # Load for longer than the sampling, so every sample is under load.
            load = threading.Thread(
                target=beacon.run_wrk,
                args=(base + args.path, headers, seconds + 4, 1, options),
            )
            load.start()
            threading.Event().wait(2)
            raw_path = Path(tmp) / "stacks.txt"
            command = [
                os.path.join(os.path.dirname(sys.executable), "py-spy"),
                "record",
                "--pid",
                str(master),
                "--subprocesses",
                *([] if args.cpu else ["--idle"]),
                "--rate",
                str(args.rate),
                "--duration",
                str(seconds),
                "--format",
                "raw",
                "--output",
                str(raw_path),
            ]
            subprocess.run(command, check=True, capture_output=True, timeout=seconds + 60)  # noqa: S603
            load.join(timeout=seconds + 60)
            print(f"workers sampled: {worker_pids(master)}")
        raw = raw_path.read_text()
        if args.raw:
            args.raw.write_text(raw)
    rows = summarise(raw)
    total = sum(count for _, count in rows)
    what = "samples not blocked" if args.cpu else "samples (on CPU or blocked)"
    print(f"\n{args.database}, {args.path}, {total:,} {what}, {args.env or 'no extra settings'}")
    for name, count in rows:
        print(f"  {count / total:6.1%}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
