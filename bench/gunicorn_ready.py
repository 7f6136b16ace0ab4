"""gunicorn settings for bench/coldstart.py: say when the worker has loaded the application."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def post_worker_init(worker: Any) -> None:
    # Called once the worker has loaded the application, before it accepts.
    ready = os.environ.get("BENCH_READY_FILE")
    if ready:
        Path(ready).write_text(str(worker.pid))
