"""The first beacon request of a freshly booted worker, against the ones after it.

bench/run calls ``measure`` per mode: it boots a server of one sync worker,
waits until gunicorn says the worker has loaded the application
(``post_worker_init``, bench/gunicorn_ready.py), sends one beacon request and
times it, then times ``STEADY_REQUESTS`` more, one after the other on new
connections as the first. The figure is the first request's time over the p50
of the rest; the target is at most 2.
"""

from __future__ import annotations

import http.client
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

READY_CONFIG = Path(__file__).resolve().parent / "gunicorn_ready.py"
STEADY_REQUESTS = 200
# The wait between the worker saying it is ready and the first request, and
# before each paused one.
PAUSE_SECONDS = 0.2
PAUSED_REQUESTS = 5


@dataclass
class ColdStart:
    first_ms: float
    steady_p50_ms: float
    boot_seconds: float
    # The median of the requests sent after a pause, on the same warm worker.
    paused_ms: float = 0.0

    @property
    def ratio(self) -> float:
        return self.first_ms / self.steady_p50_ms if self.steady_p50_ms else 0.0

    @property
    def paused_ratio(self) -> float:
        return self.first_ms / self.paused_ms if self.paused_ms else 0.0


def timed_get(port: int, target: str, headers: dict[str, str]) -> float:
    """Milliseconds from connecting to the whole answer read; raises unless 200."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", target, headers=headers)
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200:
        raise RuntimeError(f"cold start: {target} answered {response.status}")
    return elapsed


def measure(
    env: dict[str, str], root: Path, tmp: Path, port: int, target: str, headers: dict[str, str]
) -> ColdStart:
    ready = tmp / f"ready-{port}"
    ready.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "example_project.wsgi",
        "--config",
        str(READY_CONFIG),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--log-level",
        "warning",
        "--error-logfile",
        str(tmp / f"cold-{port}.log"),
    ]
    started = time.monotonic()
    process = subprocess.Popen(  # noqa: S603
        command,
        cwd=root,
        env={**env, "BENCH_READY_FILE": str(ready)},
    )
    try:
        deadline = started + 60
        while not ready.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"cold start: the worker did not boot (see {tmp})")
            time.sleep(0.02)
        boot = time.monotonic() - started
        # post_worker_init runs just before the worker's accept loop.
        time.sleep(PAUSE_SECONDS)
        first = timed_get(port, target, headers)
        steady = [timed_get(port, target, headers) for _ in range(STEADY_REQUESTS)]
        paused = []
        for _ in range(PAUSED_REQUESTS):
            time.sleep(PAUSE_SECONDS)
            paused.append(timed_get(port, target, headers))
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    return ColdStart(
        first_ms=first,
        steady_p50_ms=statistics.median(steady),
        boot_seconds=boot,
        paused_ms=statistics.median(paused),
    )


def summary_line(label: str, starts: list[ColdStart]) -> str:
    ratios = [start.ratio for start in starts]
    firsts = [start.first_ms for start in starts]
    steady = [start.steady_p50_ms for start in starts]
    paused = [start.paused_ms for start in starts]
    paused_ratios = [start.paused_ratio for start in starts]
    return (
        f"{label}: cold start over {len(starts)} boot(s): first request "
        f"{statistics.median(firsts):.2f} ms ({min(firsts):.2f} to {max(firsts):.2f}), "
        f"steady p50 {statistics.median(steady):.2f} ms, first/p50 "
        f"{statistics.median(ratios):.2f} ({min(ratios):.2f} to {max(ratios):.2f}); target <= 2; "
        f"after a {PAUSE_SECONDS:g} s pause on the warm worker "
        f"{statistics.median(paused):.2f} ms, first/paused "
        f"{statistics.median(paused_ratios):.2f} "
        f"({min(paused_ratios):.2f} to {max(paused_ratios):.2f})"
    )
