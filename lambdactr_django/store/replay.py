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
import time
from collections.abc import Callable
from pathlib import Path

from django.db import DatabaseError

from lambdactr_django.models import HeaderHit
from lambdactr_django.signals import hits_stored
from lambdactr_django.store import database, rows, spool

logger = logging.getLogger(__name__)

REPLAY_CHUNK = 500
# After a successful write a worker looks for spooled hits at most this often:
# one monotonic-clock comparison per hit the rest of the time.
REPLAY_CHECK_SECONDS = 5.0

_next_replay_check = 0.0


@dataclasses.dataclass
class ReplayResult:
    stored: int = 0
    already_stored: int = 0
    unreadable: int = 0
    rejected: int = 0


def check_soon() -> None:
    """Look for spooled hits on the next ``replay_if_due``: after an outage began."""
    global _next_replay_check
    _next_replay_check = 0.0


def replay(
    *, wait: bool = False, progress: Callable[[ReplayResult], None] | None = None
) -> ReplayResult | None:
    """Store every spooled hit; None when another process is already replaying.

    Safe to interrupt: a file is deleted only once all its rows are stored, and
    rows stored before an interruption are skipped by UUID the next time.
    Raises OperationalError/InterfaceError, keeping the spool, if the database
    is still unavailable.
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
    if result.unreadable or result.rejected:
        logger.error(
            "lambdactr: replay skipped %d unreadable spool lines and %d rows the database refused",
            result.unreadable,
            result.rejected,
        )
    return result


def _replay_file(
    path: Path, result: ReplayResult, progress: Callable[[ReplayResult], None] | None
) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        # Waits for a writer that opened the file before it was renamed.
        fcntl.flock(fd, fcntl.LOCK_EX)
        with os.fdopen(os.dup(fd), "rb") as file:
            data = file.read()
        chunk_rows: list[HeaderHit] = []
        for line in data.split(b"\n"):
            if not line.strip():
                continue
            try:
                chunk_rows.append(rows.row_of(json.loads(line)))
            except (ValueError, TypeError, KeyError, AttributeError):
                # A line torn by a crash mid-write, or not ours.
                result.unreadable += 1
        for start in range(0, len(chunk_rows), REPLAY_CHUNK):
            chunk = chunk_rows[start : start + REPLAY_CHUNK]
            _store_chunk(chunk, result)
            hits_stored.send(HeaderHit, created_at=[row.created_at for row in chunk])
            if progress is not None:
                progress(result)
        os.unlink(path)
    finally:
        os.close(fd)


def _store_chunk(chunk: list[HeaderHit], result: ReplayResult) -> None:
    try:
        inserted = database.insert_new(chunk)
    except database.UNAVAILABLE:
        raise
    except DatabaseError:
        if len(chunk) == 1:
            logger.exception("lambdactr: the database refused spooled hit %s", chunk[0].id)
            result.rejected += 1
            return
        # Find the bad row rather than lose its neighbours.
        for row in chunk:
            _store_chunk([row], result)
        return
    result.stored += inserted
    result.already_stored += len(chunk) - inserted


def replay_if_due() -> None:
    global _next_replay_check
    now = time.monotonic()
    if now < _next_replay_check:
        return
    _next_replay_check = now + REPLAY_CHECK_SECONDS
    if not spool.has_spooled_hits():
        return
    try:
        result = replay()
    except database.UNAVAILABLE:
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
