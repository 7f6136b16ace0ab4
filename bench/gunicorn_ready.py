"""gunicorn settings for bench/coldstart.py: the example's, and say when the worker has
loaded the application."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from example_project import gunicorn_conf


def post_worker_init(worker: Any) -> None:
    # Called once the worker has loaded the application, before it accepts:
    # the example's warm-up first, as a deployment with its settings runs it.
    gunicorn_conf.post_worker_init(worker)
    ready = os.environ.get("BENCH_READY_FILE")
    if ready:
        Path(ready).write_text(str(worker.pid))
