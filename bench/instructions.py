"""Instructions per request, counted by valgrind's callgrind: stable on a noisy machine.

Usage: .venv/bin/python bench/instructions.py [--database sqlite|postgres]
       [--mode durable|buffered] [--requests N] [--targets empty,view,middleware,wsgi]
       [--no-valgrind] [--keep] [--backend-cpu]

For each target this runs one Python process under ``valgrind --tool=callgrind``
that sets up the example project (DEBUG off, rate limit off, on a scratch
database as bench/run makes), calls its WSGI application in-process with the
browser headers bench/run sends, and counts the instructions of the whole
process, threads included (the buffered flusher's). It does so twice, for
``N`` and ``2N`` requests, so that the difference divided by ``N`` is the
instructions of one request without start-up. Buffered hits are stored by one
flush at exit rather than every second (see below). The targets:

- ``empty``: /bench/empty.css, the empty view through the whole middleware
  (bench/run's baseline);
- ``view``: /ctr/s.css through Django's request machinery (BEACON_FAST_PATH=view);
- ``middleware``: /ctr/s.css answered by BeaconFastPathMiddleware;
- ``wsgi``: /ctr/s.css answered by BeaconFastPath in wsgi.py (the example's default).

Only this process is counted: on PostgreSQL the server's own work is not.
``--no-valgrind`` times the same loops instead (microseconds per request).
The measured processes run with ``PYTHONHASHSEED=0``: a set's or a dict's
order, and so the work of what iterates it, is then the same in every run.
``--backend-cpu`` (PostgreSQL) counts instead the CPU time of the server
process serving the worker, from its ``/proc/PID/schedstat``, and the
worker's own, over the N requests after a first one: microseconds per
request, on a machine where the database runs beside the benchmark.
``--keep`` keeps the scratch database and callgrind's output files (for
``callgrind_annotate``) and says where they are. On PostgreSQL the scratch
database is named after PG_URL's (see bench/run).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import beacon

TARGETS = {
    "empty": ("view", beacon.BASELINE_PATH),
    "view": ("view", beacon.BEACON_PATH),
    "middleware": ("middleware", beacon.BEACON_PATH),
    "wsgi": ("wsgi", beacon.BEACON_PATH),
}


def environ_for(path: str) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_REFERER": "http://127.0.0.1" + beacon.PAGE_PATH,
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
    }
    for name, value in beacon.BROWSER_HEADERS.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def serve(count: int, path: str) -> None:
    """In the measured process: load the application and answer ``count`` requests."""
    from example_project.wsgi import application

    template = environ_for(path)
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        statuses.append(status)

    for _ in range(count):
        # A fresh environ and input per request, as a server makes them.
        body = application({**template, "wsgi.input": io.BytesIO()}, start_response)
        for _chunk in body:
            pass
        body.close()  # type: ignore[attr-defined]
    bad = {status for status in statuses if not status.startswith("200")}
    if bad:
        raise SystemExit(f"unexpected answers: {bad}")


def backend_cpu(count: int, path: str) -> None:
    """In the measured process: the server's and this process's CPU per request."""
    serve(1, path)  # which loads Django
    from django.db import connections

    from lambdactr_django.store.database import beacon_alias

    connection = connections[beacon_alias()]
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    server, worker = _on_cpu(pid), time.process_time()
    serve(count, path)
    if connection.connection is None or connection.connection.info.backend_pid != pid:
        raise SystemExit("the connection changed during the run")
    print(f"{(_on_cpu(pid) - server) / count * 1e6} {(time.process_time() - worker) / count * 1e6}")


def _on_cpu(pid: int) -> float:
    # schedstat's first field: nanoseconds on a CPU (stat's ticks are 10 ms).
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9


def run_backend_cpu(env: dict[str, str], target: str, count: int) -> tuple[float, float]:
    done = _child(env, target, f"backend_cpu({count}, {TARGETS[target][1]!r})")
    server, worker = done.stdout.split()[-2:]
    return float(server), float(worker)


def _child(
    env: dict[str, str], target: str, call: str, wrapper: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    # A process of its own, importing this module and making one call of it.
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); "
        f"import instructions; instructions.{call}"
    )
    done = subprocess.run(  # noqa: S603
        [*(wrapper or []), sys.executable, "-c", code],
        cwd=beacon.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        raise SystemExit(f"{target} failed:\n{done.stdout}{done.stderr[-3000:]}")
    return done


def measure(env: dict[str, str], target: str, count: int, valgrind: bool, tmp: Path) -> float:
    """Instructions (or seconds) of a run answering ``count`` requests."""
    wrapper: list[str] = []
    if valgrind:
        out = tmp / f"callgrind.{target}.{count}.out"
        wrapper = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
    started = time.perf_counter()
    done = _child(env, target, f"serve({count}, {TARGETS[target][1]!r})", wrapper)
    elapsed = time.perf_counter() - started
    if not valgrind:
        return elapsed
    match = re.search(r"Collected : (\d+)", done.stderr)
    if not match:
        raise SystemExit(f"no instruction count in valgrind's output:\n{done.stderr[-3000:]}")
    return float(match[1])


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="bench/instructions.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--mode", choices=["durable", "buffered"], default="buffered")
    parser.add_argument("--requests", type=int, default=500, help="N (default 500, at most 20000)")
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--no-valgrind", action="store_true", help="time the loops instead")
    parser.add_argument(
        "--backend-cpu",
        action="store_true",
        help="PostgreSQL: the server process's CPU per request, and the worker's",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the scratch database and callgrind's output"
    )
    args = parser.parse_args()
    targets = [name.strip() for name in args.targets.split(",") if name.strip()]
    if set(targets) - set(TARGETS):
        parser.error(f"--targets among {', '.join(TARGETS)}")
    if args.backend_cpu and args.database != "postgres":
        parser.error("--backend-cpu needs --database postgres")
    count = max(10, min(args.requests, 20000))
    # Under valgrind a second is a few dozen requests: a flush every second would
    # store batches a hundred times smaller than a real worker's. One flush for
    # the whole run (at exit, or at the batch limit) prices a hit's share of it fairly.
    options = beacon.parse_args(["--databases", args.database, "--buffer-seconds", "60"])
    valgrind = not args.no_valgrind
    with (
        beacon.scratch_database(args.database, options, keep=args.keep) as database,
        _directory(args.keep) as tmp,
    ):
        env = {**beacon.server_env(database, options), "PYTHONHASHSEED": "0"}
        beacon.manage(env, "migrate", "--noinput")
        env = beacon.mode_env(env, args.mode, Path(tmp), options)
        if args.backend_cpu:
            print(f"{args.database}/{args.mode}, {count} requests per target, µs of CPU each")
            for target in targets:
                target_env = {**env, "BEACON_FAST_PATH": TARGETS[target][0]}
                server, worker = run_backend_cpu(target_env, target, count)
                print(f"  {target:<11} server {server:8.1f}   worker {worker:8.1f}", flush=True)
            return 0
        unit = "instructions" if valgrind else "us"
        print(
            f"{args.database}/{args.mode}, {count} and {2 * count} requests per target, "
            f"{unit} per request ({os.cpu_count()} cores, Python {sys.version.split()[0]})"
        )
        for target in targets:
            door, _ = TARGETS[target]
            target_env = {**env, "BEACON_FAST_PATH": door}
            once = measure(target_env, target, count, valgrind, Path(tmp))
            twice = measure(target_env, target, 2 * count, valgrind, Path(tmp))
            per_request = (twice - once) / count
            figure = f"{per_request:,.0f}" if valgrind else f"{per_request * 1e6:,.1f}"
            print(f"  {target:<11} {figure:>12} {unit}", flush=True)
    return 0


@contextlib.contextmanager
def _directory(keep: bool) -> Iterator[str]:
    if not keep:
        with tempfile.TemporaryDirectory() as tmp:
            yield tmp
        return
    tmp = tempfile.mkdtemp(prefix="lambdactr-instructions-")
    try:
        yield tmp
    finally:
        print(f"kept callgrind's output in {tmp}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
