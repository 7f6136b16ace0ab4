"""Queue the beacon's writers to one SQLite file, so the next one starts as soon as it may.

SQLite lets one writer at a time commit; one that finds the file locked
sleeps 1, 2, 5, 10 ms and more between tries (its busy handler), far longer
than the commit it waits for, while the file stands unlocked
(docs/performance-profile.md). The beacon's writers first take an exclusive
``flock`` on a file next to the database instead, trying again after 50 µs,
doubling up to 1 ms, for at most ``LAMBDACTR_DB_TIMEOUT``; after that they go
ahead without it. SQLite's own locking still decides who writes: this only
orders the beacon's writers. SQLite's own busy wait (OPTIONS "timeout", 5 s
unless set) is cut to what is left of ``LAMBDACTR_DB_TIMEOUT`` for the write,
so the two waits together stay within it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator

from django.db.backends.base.base import BaseDatabaseWrapper

SUFFIX = "-lambdactr-writers.lock"
FIRST_WAIT = 50e-6
LONGEST_WAIT = 1e-3

# One open file per thread: flock() excludes other open files, not other
# threads sharing one.
_local = threading.local()


@contextlib.contextmanager
def turn(connection: BaseDatabaseWrapper, timeout: float) -> Iterator[None]:
    """Wait, at most ``timeout`` seconds, for this writer's turn on ``connection``'s file."""
    fd = _lock_file(connection)
    if fd is None or not _lock(fd, timeout):
        yield
        return
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def busy_wait_until(connection: BaseDatabaseWrapper, deadline: float) -> Iterator[None]:
    """SQLite's own busy wait, for what runs inside, cut to end by ``deadline``."""
    if connection.vendor != "sqlite":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    left = max(1, int((deadline - time.monotonic()) * 1000))
    # In the sqlite3 module, not a statement of Django's: no query is logged.
    raw.execute(f"PRAGMA busy_timeout = {left}")
    try:
        yield
    finally:
        # The connection's own wait again, for whatever else this thread does with it.
        configured = float(connection.settings_dict["OPTIONS"].get("timeout", 5.0))
        raw.execute(f"PRAGMA busy_timeout = {int(configured * 1000)}")


def _lock(fd: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    wait = FIRST_WAIT
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(wait)
            wait = min(wait * 2, LONGEST_WAIT)
        else:
            return True


def _lock_file(connection: BaseDatabaseWrapper) -> int | None:
    if connection.vendor != "sqlite" or connection.is_in_memory_db():  # type: ignore[attr-defined]
        return None
    path = f"{connection.settings_dict['NAME']}{SUFFIX}"
    files: dict[tuple[int, str], int] = _local.__dict__.setdefault("files", {})
    # Keyed by process too: a file opened before a fork is shared with the child.
    key = (os.getpid(), path)
    fd = files.get(key)
    if fd is None:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:
            # A directory the workers cannot write to: go without the queue.
            return None
        files[key] = fd
    return fd
