"""Counts of hits refused, spooled or lost, logged without flooding the log."""

from __future__ import annotations

import atexit
import logging
import threading
import time

logger = logging.getLogger("lambdactr_django")


class EventCount:
    """Counts events and logs the count at most once per ``every`` seconds.

    The first event after a quiet spell is logged at once; the rest are
    summed into the next line, and whatever is left is logged at exit, so no
    count is ever dropped silently.
    """

    def __init__(self, message: str, level: int = logging.WARNING, every: float = 10.0) -> None:
        # ``message`` takes two %d: the count since the last line, and the total.
        self.message = message
        self.level = level
        self.every = every
        self.total = 0
        self.unreported = 0
        self._last_report = -float("inf")
        self._lock = threading.Lock()
        atexit.register(self.flush)

    def add(self, count: int = 1) -> None:
        with self._lock:
            self.total += count
            self.unreported += count
            if time.monotonic() - self._last_report >= self.every:
                self._report()

    def flush(self) -> None:
        with self._lock:
            if self.unreported:
                self._report()

    def _report(self) -> None:
        logger.log(self.level, self.message, self.unreported, self.total)
        self.unreported = 0
        self._last_report = time.monotonic()
