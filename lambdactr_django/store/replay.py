"""Replay: store what the spool holds, once the database is back.

Safe to repeat and to interrupt: rows go in with ON CONFLICT DO NOTHING on
their key, so a hit stored before an interruption, or committed but not
acknowledged before it was spooled, is skipped. Replayed hits may belong to
days the statistics have rolled up already: each stored chunk is announced
with ``lambdactr_django.signals.hits_stored``.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from django.db import DatabaseError, connections

from lambdactr_django.eventcount import EventCount
from lambdactr_django.models import HeaderHit
from lambdactr_django.signals import hits_stored
from lambdactr_django.store import database, rows, spool

logger = logging.getLogger(__name__)

# A batch is bounded both ways: a few rows of fat hits weigh as much as
# thousands of thin ones, and what one statement may take is bounded in time
# (LAMBDACTR_REPLAY_TIMEOUT), so it must be in bytes too.
REPLAY_CHUNK = 500
REPLAY_CHUNK_BYTES = 1024 * 1024
# After a successful write a worker looks for spooled hits at most this often:
# one monotonic-clock comparison per hit the rest of the time.
REPLAY_CHECK_SECONDS = 5.0

_next_replay_check = 0.0
_background: threading.Thread | None = None
_background_lock = threading.Lock()

postponed = EventCount(
    "lambdactr: spool replay postponed %d times, the database is unavailable or busy "
    "(%d since start)"
)


@dataclasses.dataclass
class ReplayResult:
    stored: int = 0
    already_stored: int = 0
    unreadable: int = 0
    # Rows the database refused, or that ran out of time alone: set aside in
    # the quarantine file (spool.QUARANTINE_FILE), never retried by themselves.
    quarantined: int = 0
    # For progress only: how far through the spool, in bytes.
    bytes_done: int = dataclasses.field(default=0, compare=False)


@dataclasses.dataclass
class _Line:
    row: HeaderHit
    data: bytes
    # Bytes of the file it took, with blank and unreadable lines before it.
    size: int


def check_soon() -> None:
    """Look for spooled hits on the next ``replay_if_due``: after an outage began."""
    global _next_replay_check
    _next_replay_check = 0.0


def replay(
    *, wait: bool = False, progress: Callable[[ReplayResult], None] | None = None
) -> ReplayResult | None:
    """Store every spooled hit; None when another process is already replaying.

    Safe to interrupt: a file is deleted only once all its rows are stored or
    set aside, and rows stored before an interruption are skipped by UUID the
    next time. Raises OperationalError/InterfaceError, keeping the spool, if the
    database is still unavailable or busy.
    """
    directory = spool.spool_dir()
    result = ReplayResult()
    if directory is None or not directory.is_dir():
        return result
    lock = os.open(directory / spool.LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            return None
        for batch in [p for p in spool.spool_files(directory) if p.name != spool.SPOOL_FILE]:
            _replay_file(batch, result, progress)
        current = directory / spool.SPOOL_FILE
        if current.exists():
            batch = spool.handover(directory)
            os.rename(current, batch)
            _replay_file(batch, result, progress)
    finally:
        os.close(lock)
    if result.unreadable or result.quarantined:
        logger.error(
            "lambdactr: replay skipped %d unreadable spool lines and set aside %d hits in %s",
            result.unreadable,
            result.quarantined,
            directory / spool.QUARANTINE_FILE,
        )
    return result


def _replay_file(
    path: Path, result: ReplayResult, progress: Callable[[ReplayResult], None] | None
) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        # Waits for a writer that opened the file before it was renamed.
        fcntl.flock(fd, fcntl.LOCK_EX)
        # Read a chunk at a time: a whole spool in memory, as rows, is many
        # times its size on disk.
        with os.fdopen(os.dup(fd), "rb") as file:
            for chunk in _chunks(file, result):
                _store_chunk(chunk, result)
                result.bytes_done += sum(line.size for line in chunk)
                hits_stored.send(HeaderHit, created_at=[line.row.created_at for line in chunk])
                if progress is not None:
                    progress(result)
        os.unlink(path)
    finally:
        os.close(fd)


def _chunks(file: BinaryIO, result: ReplayResult) -> Iterator[list[_Line]]:
    chunk: list[_Line] = []
    size = skipped = 0
    for data in file:
        if not data.strip():
            skipped += len(data)
            continue
        try:
            line = _Line(rows.row_of(json.loads(data)), data.rstrip(b"\n"), skipped + len(data))
        except (ValueError, TypeError, KeyError, AttributeError):
            # A line torn by a crash mid-write, or not ours.
            result.unreadable += 1
            skipped += len(data)
            continue
        skipped = 0
        if chunk and (len(chunk) >= REPLAY_CHUNK or size + len(line.data) > REPLAY_CHUNK_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(line)
        size += len(line.data)
    if chunk:
        yield chunk


def _store_chunk(chunk: list[_Line], result: ReplayResult) -> None:
    try:
        inserted = database.insert_new([line.row for line in chunk], batch=True)
    except DatabaseError as error:
        if database.unavailable(error):
            # Down, unreachable or busy: the whole spool waits for next time.
            raise
        if len(chunk) == 1:
            _quarantine(chunk[0], error)
            result.quarantined += 1
            return
        # Refused or too slow: halve until the bad row is alone, so a bad row
        # costs only itself and a batch too big for the time allowed still goes.
        middle = len(chunk) // 2
        _store_chunk(chunk[:middle], result)
        _store_chunk(chunk[middle:], result)
        return
    result.stored += inserted
    result.already_stored += len(chunk) - inserted


def _quarantine(line: _Line, error: DatabaseError) -> None:
    logger.error(
        "lambdactr: the database refused spooled hit %s (%s); set aside in %s",
        line.row.id,
        str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__,
        spool.QUARANTINE_FILE,
    )
    spool.quarantine(line.data)


def replay_if_due(*, background: bool = True) -> None:
    """Replay the spool if it holds hits and was not looked at in the last few seconds.

    ``background``: in a thread of its own, so the beacon request that found the
    database back answers at once instead of waiting for the whole spool.
    """
    global _next_replay_check
    now = time.monotonic()
    if now < _next_replay_check:
        return
    _next_replay_check = now + REPLAY_CHECK_SECONDS
    if not spool.has_spooled_hits():
        return
    if background:
        _start_background()
    else:
        replay_logged()


def _start_background() -> None:
    global _background
    with _background_lock:
        if _background is not None and _background.is_alive():
            return  # Still replaying.
        _background = threading.Thread(
            target=_replay_in_thread, name="lambdactr-replay", daemon=True
        )
        _background.start()


def _replay_in_thread() -> None:
    try:
        replay_logged()
    finally:
        # This thread's connections are nobody else's to close.
        connections.close_all()


def replay_logged() -> None:
    """``replay()``, its outcome logged rather than raised."""
    try:
        result = replay()
    except database.UNAVAILABLE:
        postponed.add()
        return
    except Exception:
        logger.exception("lambdactr: replaying the spool failed")
        return
    if result is not None and (result.stored or result.already_stored):
        logger.info(
            "lambdactr: stored %d spooled hits (%d were already stored)",
            result.stored,
            result.already_stored,
        )
