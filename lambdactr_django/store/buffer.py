"""Buffered writes (``LAMBDACTR_BUFFER_SECONDS``): hits stored in batches, off the request path.

Each hit becomes its row (UUID and time made now, as the durable path does) and
is appended as one line to this process's journal in the spool directory, with
one ``write()`` and no fsync, then kept in memory. A flusher thread stores the
batch every interval in one transaction and deletes the journal segment that
held it. The journal is what survives a SIGKILL: the page cache keeps what was
written, and the next flusher to look (of any process) finds a journal nobody
holds a lock on and hands it to the replay (``spool.handover``), which skips
rows already stored. A power loss can lose what was written since the last flush.
"""

from __future__ import annotations

import atexit
import datetime as dt
import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DatabaseError, connections

from lambdactr_django.conf import conf
from lambdactr_django.hits import Hit
from lambdactr_django.models import HeaderHit
from lambdactr_django.signals import hits_stored
from lambdactr_django.store import database, durable, replay, rows, spool
from lambdactr_django.store.rows import Record

logger = logging.getLogger(__name__)

JOURNAL_PREFIX = "journal-"
JOURNAL_SUFFIX = ".jsonl"
# Past this many rows the flusher is woken before its interval is up: it bounds
# the batch (one INSERT) and the memory a burst takes.
MAX_BATCH = 2000
# The same in bytes: a few hundred fat hits weigh as much as thousands of thin ones.
MAX_BATCH_BYTES = 4 * 1024 * 1024
# How long a stopping process waits for a flush already running in its thread.
STOP_WAIT_SECONDS = 10.0


@dataclass
class _Journal:
    path: Path
    fd: int
    # The journal's records, as its lines hold them, and each line's bytes:
    # what the flush's parts are bounded by, without encoding each again.
    records: list[Record] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    bytes: int = 0
    # The spool directory's other files when this journal was opened: with
    # ``bytes``, what LAMBDACTR_SPOOL_MAX_BYTES bounds, without a stat() per hit.
    others: int = 0


@dataclass
class _Buffer:
    pid: int
    # Held for an append, and for the swap to a fresh journal: never for I/O
    # with the database.
    lock: threading.Lock = field(default_factory=threading.Lock)
    # One flush at a time: the thread's and the one at exit.
    flushing: threading.Lock = field(default_factory=threading.Lock)
    wake: threading.Event = field(default_factory=threading.Event)
    stopping: bool = False
    journal: _Journal | None = None
    thread: threading.Thread | None = None


_buffer: _Buffer | None = None
_buffer_lock = threading.Lock()


def enabled() -> bool:
    # Asked on every beacon request: no Path built here.
    return bool(conf.BUFFER_SECONDS) and conf.SPOOL_DIR is not None


def save(hit: Hit) -> None:
    """Journal ``hit`` for the next flush; stored at once if it cannot be journaled."""
    if not _append(rows.new_record(hit)):
        durable.save(hit)


def _append(values: Record) -> bool:
    state = _current()
    data = rows.line(values)
    with state.lock:
        try:
            journal = state.journal or _open_journal(state)
            if journal.others + journal.bytes + len(data) > conf.SPOOL_MAX_BYTES:
                # The spool directory is full (an outage, or a replay under
                # way): stored now if the database takes it, else counted dropped.
                return False
            # One write() of the whole line: a kill lands before or after it.
            spool.write_all_or_fail(journal.fd, data)
        except OSError as error:
            # Stored at once instead; said once, not per hit.
            spool.write_failed(spool.spool_dir() or Path(), error)
            return False
        journal.records.append(values)
        journal.sizes.append(len(data))
        journal.bytes += len(data)
        full = len(journal.records) >= MAX_BATCH or journal.bytes >= _batch_bytes()
    if full:
        state.wake.set()
    return True


def warm_up() -> None:
    """Start this process's flusher thread and open its journal, before the first hit."""
    state = _current()
    with state.lock:
        if state.journal is None:
            _open_journal(state)


def _batch_bytes() -> int:
    # Flushed well before a small LAMBDACTR_SPOOL_MAX_BYTES could drop hits.
    return min(MAX_BATCH_BYTES, conf.SPOOL_MAX_BYTES // 4)


def _current() -> _Buffer:
    global _buffer
    state = _buffer
    if state is not None and state.pid == os.getpid():
        return state
    with _buffer_lock:
        # A forked child inherits its parent's buffer: not its journal, not its thread.
        if _buffer is None or _buffer.pid != os.getpid():
            _buffer = _Buffer(pid=os.getpid())
            _start(_buffer)
        return _buffer


def _start(state: _Buffer) -> None:
    state.thread = threading.Thread(
        target=_run, args=(state,), name="lambdactr-flusher", daemon=True
    )
    state.thread.start()
    # gunicorn's workers leave through sys.exit() on SIGTERM, SIGQUIT, SIGINT,
    # --max-requests and a reload (SIGHUP): atexit runs in each case.
    atexit.register(stop, state)


def _open_journal(state: _Buffer) -> _Journal:
    directory = spool.spool_dir()
    assert directory is not None
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"{JOURNAL_PREFIX}{state.pid}-{time.time_ns()}{JOURNAL_SUFFIX}"
    # Locked under a name no other process looks at, then renamed: a journal
    # is never seen unlocked while its process lives.
    hidden = directory / f".{name}"
    fd = os.open(hidden, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(hidden, directory / name)
    except OSError:
        os.close(fd)
        raise
    state.journal = _Journal(path=directory / name, fd=fd, others=spool.directory_bytes(directory))
    return state.journal


def _run(state: _Buffer) -> None:
    while not state.stopping:
        state.wake.wait(_interval())
        state.wake.clear()
        if state.stopping:
            break
        try:
            flush(state)
            adopt_orphans()
            # This thread is off the request path already.
            replay.replay_if_due(background=False)
        except Exception:
            logger.exception("lambdactr: flushing the buffered hits failed")
        finally:
            # Django closes a request thread's connection; this thread's is ours to close.
            connections[database.beacon_alias()].close_if_unusable_or_obsolete()
    connections.close_all()


def _interval() -> float:
    value = conf.BUFFER_SECONDS
    return float(value) if value else 1.0


def flush(state: _Buffer | None = None) -> int:
    """Store this process's buffered hits now; returns how many rows were stored."""
    state = state or _buffer
    if state is None or state.pid != os.getpid():
        return 0
    with state.flushing:
        with state.lock:
            journal, state.journal = state.journal, None
        if journal is None:
            return 0
        return store(journal)


def store(journal: _Journal) -> int:
    """Store one journal segment's rows; the segment goes to the spool if they cannot be."""
    try:
        stored = store_batch(journal.records, journal.sizes)
    except DatabaseError as error:
        if database.unavailable(error):
            logger.debug("lambdactr: flush failed: %s", error)
            spool.spooled.add(len(journal.records))
        else:
            # A row the database refuses, or a batch too slow for the time
            # allowed: the replay splits it until the bad row is set aside.
            logger.warning(
                "lambdactr: the database did not take a batch of %d hits (%s); "
                "the spool's replay stores it in smaller parts",
                len(journal.records),
                str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__,
            )
        _to_spool(journal)
        return 0
    except BaseException:
        # Keep the segment for the next flusher rather than lose it.
        os.close(journal.fd)
        raise
    # Deleted before its lock goes: no other process can take it for an orphan.
    os.unlink(journal.path)
    os.close(journal.fd)
    return stored


def store_batch(records: Sequence[Record], sizes: Sequence[int] | None = None) -> int:
    """Store a batch of buffered hits, in parts bounded in bytes; returns how many.

    ``sizes``: each record's bytes as a line (``rows.encoded_size``), if known.
    Each part is a transaction of its own: if a later one fails the batch goes
    to the spool, whose replay skips the rows already stored.
    """
    if sizes is None:
        sizes = [rows.encoded_size(values) for values in records]
    stored = 0
    for part in _parts(records, sizes):
        stored += _store_part(part)
    return stored


def _parts(records: Sequence[Record], sizes: Sequence[int]) -> Iterator[Sequence[Record]]:
    start = size = 0
    for index, line_size in enumerate(sizes):
        size += line_size
        if index > start and size > replay.REPLAY_CHUNK_BYTES:
            yield records[start:index]
            start, size = index, line_size
    if start < len(records):
        yield records[start:]


def _store_part(records: Sequence[Record]) -> int:
    if not records:
        return 0
    alias = database.beacon_alias()
    if connections[alias].vendor == "postgresql":
        stored = database.copy_records(records, alias)
    else:
        stored = database.insert_new([rows.row_of(values) for values in records], batch=True)
    # A batch flushed just after midnight holds hits of a day that may be rolled up.
    hits_stored.send(
        HeaderHit,
        created_at=[dt.datetime.fromisoformat(values["created_at"]) for values in records],
    )
    return stored


def _to_spool(journal: _Journal) -> None:
    # A rename hands the segment over to the replay.
    target = spool.handover(journal.path.parent, journal.path.stem)
    try:
        os.rename(journal.path, target)
    finally:
        os.close(journal.fd)


def adopt_orphans() -> int:
    """Hand the journals of dead processes to the spool's replay; returns how many."""
    directory = spool.spool_dir()
    if directory is None:
        return 0
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return 0
    adopted = 0
    for name in names:
        if name.startswith(JOURNAL_PREFIX) and name.endswith(JOURNAL_SUFFIX):
            adopted += _adopt(directory / name)
    if adopted:
        logger.warning("lambdactr: found %d journals left by stopped processes", adopted)
    return adopted


def _adopt(path: Path) -> int:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return 0  # Flushed or adopted meanwhile.
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0  # Its process is alive (or this is our own).
        try:
            if os.stat(path).st_ino != os.fstat(fd).st_ino:
                return 0
        except FileNotFoundError:
            return 0
        os.rename(path, spool.handover(path.parent, path.stem))
        return 1
    finally:
        os.close(fd)


def stop(state: _Buffer | None = None) -> None:
    """Stop the flusher thread and store what is buffered: at exit, and in tests."""
    global _buffer
    state = state or _buffer
    if state is None or state.pid != os.getpid():
        return
    state.stopping = True
    state.wake.set()
    if state.thread is not None and state.thread is not threading.current_thread():
        state.thread.join(STOP_WAIT_SECONDS)
    try:
        flush(state)
    except Exception:
        # The journal stays; the next process's flusher adopts it.
        logger.exception("lambdactr: storing the buffered hits at exit failed")
    with _buffer_lock:
        if _buffer is state:
            _buffer = None
    atexit.unregister(stop)
