"""The outage spool: hits kept on local disk while the database is away.

Appended as record lines (lambdactr_django.store.rows) to one file, with
``O_APPEND`` and a lock shared with other writers; bounded by
``LAMBDACTR_SPOOL_MAX_BYTES``. Files named by ``handover`` are waiting to be
replayed (lambdactr_django.store.replay): a spool file being replayed, a
buffered batch the database refused, or the journal of a stopped process.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from lambdactr_django.conf import conf
from lambdactr_django.eventcount import EventCount
from lambdactr_django.models import HeaderHit
from lambdactr_django.store.rows import lines, record_of

logger = logging.getLogger(__name__)

SPOOL_FILE = "hits.jsonl"
# Files waiting for the replay, and left behind by an interrupted one: the
# next replay finishes them.
BATCH_PREFIX = "replaying-"
SUFFIX = ".jsonl"
LOCK_FILE = "replay.lock"
# Hits the replay set aside: refused by the database, or too slow to store even
# alone. Never replayed by itself; ``lambdactr_replay --retry-quarantined`` tries
# them again.
QUARANTINE_FILE = "quarantine.jsonl"

spooled = EventCount("lambdactr: database unavailable, spooled %d hits (%d since start)")
dropped = EventCount(
    "lambdactr: spool full (LAMBDACTR_SPOOL_MAX_BYTES), dropped %d hits (%d since start)",
    level=logging.ERROR,
)
lost = EventCount(
    "lambdactr: could not store or spool %d hits (%d since start)", level=logging.ERROR
)
quarantined = EventCount(
    f"lambdactr: set aside %d spooled hits the database refused or could not store in time, "
    f"in {QUARANTINE_FILE} "
    "(%d since start)",
    level=logging.ERROR,
)


def handover(directory: Path, origin: str = "") -> Path:
    """A new name for a file handed to the replay; ``origin`` says where it came from."""
    # Sorted by the time of the handover: older batches are replayed first.
    tail = f"-{origin}" if origin else ""
    return directory / f"{BATCH_PREFIX}{time.time_ns()}{tail}{SUFFIX}"


def spool_dir() -> Path | None:
    directory = conf.SPOOL_DIR
    return Path(directory) if directory is not None else None


def append(rows: Sequence[HeaderHit]) -> bool:
    """Append ``rows`` to the spool; False (and counted) when they are not kept."""
    directory = spool_dir()
    if directory is None:
        lost.add(len(rows))
        return False
    try:
        kept = _append_bytes(directory, lines(record_of(row) for row in rows))
    except OSError as error:
        write_failed(directory, error)
        lost.add(len(rows))
        return False
    if not kept:
        dropped.add(len(rows))
    return kept


def _append_bytes(directory: Path, data: bytes) -> bool:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / SPOOL_FILE
    # A replay may rename the file between our open and our lock: then write
    # to the new one. Bounded: a replay holds the lock while it renames.
    for _ in range(5):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            try:
                current = os.stat(path)
            except FileNotFoundError:
                continue
            if current.st_ino != os.fstat(fd).st_ino:
                continue
            if directory_bytes(directory) + len(data) > conf.SPOOL_MAX_BYTES:
                return False
            # One write() with O_APPEND: concurrent writers never interleave.
            write_all_or_fail(fd, data)
            os.fsync(fd)
            return True
        finally:
            os.close(fd)
    raise OSError(f"spool file {path} kept moving")


class ShortWrite(OSError):
    pass


def write_all_or_fail(fd: int, data: bytes) -> None:
    """One ``write()`` of ``data``; ShortWrite when it took less (a full disk, say).

    Not retried for the rest: another writer may have appended since, and the
    part written is a torn line the replay skips (the next line starts afresh).
    """
    written = os.write(fd, data)
    if written != len(data):
        raise ShortWrite(errno.ENOSPC, f"short write: {written} of {len(data)} bytes")


# One log line per kind of failure and minute: a full disk costs one line, not
# one traceback per hit; the hits lost are counted by ``lost``.
_FAILURE_LOG_SECONDS = 60.0
_logged_failures: dict[int | None, float] = {}


def write_failed(directory: Path, error: OSError) -> None:
    now = time.monotonic()
    if now - _logged_failures.get(error.errno, -float("inf")) < _FAILURE_LOG_SECONDS:
        return
    _logged_failures[error.errno] = now
    logger.error(
        "lambdactr: cannot write to the spool directory %s: %s; hits that cannot be "
        "stored are lost until it is writable (counted below)",
        directory,
        error.strerror or error,
    )


def quarantine(line: bytes) -> None:
    """Set aside one spool line the replay cannot store; counted either way."""
    quarantined.add()
    directory = spool_dir()
    if directory is None:
        return
    path = directory / QUARANTINE_FILE
    data = b"\n" + line.strip() + b"\n"
    try:
        if directory_bytes(directory) + len(data) > conf.SPOOL_MAX_BYTES:
            lost.add()
            return
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            write_all_or_fail(fd, data)
        finally:
            os.close(fd)
    except OSError as error:
        write_failed(directory, error)
        lost.add()


def directory_bytes(directory: Path) -> int:
    """What the spool directory holds, every kind of file: LAMBDACTR_SPOOL_MAX_BYTES
    bounds the spool, the buffered journals and the quarantine together."""
    total = 0
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return 0
    for entry in entries:
        if entry.name.endswith(SUFFIX):
            try:
                total += entry.stat().st_size
            except FileNotFoundError:
                continue  # Replayed or flushed meanwhile.
    return total


def spool_size(directory: Path) -> int:
    return sum(path.stat().st_size for path in spool_files(directory))


def spool_files(directory: Path) -> Iterator[Path]:
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return
    for name in sorted(names):
        if name == SPOOL_FILE or (name.startswith(BATCH_PREFIX) and name.endswith(SUFFIX)):
            yield directory / name


def has_spooled_hits() -> bool:
    directory = spool_dir()
    return directory is not None and any(True for _ in spool_files(directory))
