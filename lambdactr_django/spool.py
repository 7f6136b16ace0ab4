"""Store hits, and keep them in a local spool while the database is away.

The row's UUID and time are made before the insert is tried, so a hit that
was committed but not acknowledged, then spooled, is stored only once when the
spool is replayed: replay inserts and ignores rows whose UUID is already there.
Both need only INSERT on the table, so the beacon may use an INSERT-only role.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    connections,
    router,
    transaction,
)
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery
from django.utils import timezone

from lambdactr_django import fastinsert, keys, rollups, writerqueue
from lambdactr_django.capture import Hit
from lambdactr_django.conf import conf
from lambdactr_django.models import HeaderHit
from lambdactr_django.tally import Tally

logger = logging.getLogger(__name__)

SPOOL_FILE = "hits.jsonl"
# A spool file being replayed; left behind by an interrupted replay and
# finished by the next one.
BATCH_PREFIX = "replaying-"
LOCK_FILE = "replay.lock"
REPLAY_CHUNK = 500
# After a successful write a worker looks for spooled hits at most this often:
# one monotonic-clock comparison per hit the rest of the time.
REPLAY_CHECK_SECONDS = 5.0

# Errors that say "the database is not there right now", as opposed to "this
# row can never be stored".
UNAVAILABLE = (OperationalError, InterfaceError)

spooled = Tally("lambdactr: database unavailable, spooled %d hits (%d since start)")
dropped = Tally(
    "lambdactr: spool full (LAMBDACTR_SPOOL_MAX_BYTES), dropped %d hits (%d since start)",
    level=logging.ERROR,
)
lost = Tally("lambdactr: could not store or spool %d hits (%d since start)", level=logging.ERROR)

_next_replay_check = 0.0


@dataclasses.dataclass
class ReplayResult:
    stored: int = 0
    already_stored: int = 0
    unreadable: int = 0
    rejected: int = 0


def save(hit: Hit) -> None:
    """Store ``hit``; spool it if the database is unavailable."""
    global _next_replay_check
    row = new_row(hit)
    try:
        insert(row)
    except UNAVAILABLE as error:
        logger.debug("lambdactr: insert failed: %s", error)
        if append([row]):
            spooled.add()
        # Look for spooled hits on the first successful write after this.
        _next_replay_check = 0.0
        return
    except DatabaseError:
        # The row itself is bad: spooling it would only fail again on replay.
        lost.add()
        raise
    replay_if_due()


def new_row(hit: Hit) -> HeaderHit:
    # Hit's fields are named after the model's columns.
    return HeaderHit(id=keys.new_key(), created_at=timezone.now(), **dataclasses.asdict(hit))


def beacon_alias() -> str:
    """The database alias the beacon, and the replay of its spool, insert into."""
    # Only here: the beacon needs INSERT alone, so LAMBDACTR_WRITE_DATABASE may
    # name an INSERT-only role. Everything else that writes (the admin's
    # deletes, lambdactr_prune, lambdactr_reclassify) goes through the router.
    return conf.WRITE_DATABASE or router.db_for_write(HeaderHit)


def insert(row: HeaderHit) -> None:
    """Insert one new row, committed before this returns."""
    alias = beacon_alias()
    connection = connections[alias]
    # A connection kept from an earlier request: Django would check it with a
    # SELECT 1 first (CONN_HEALTH_CHECKS), one round trip on every hit, a
    # quarter of the beacon's time (docs/performance-profile.md). Skip that,
    # and replace it below if it turns out to be dead.
    kept = connection.connection is not None and not connection.in_atomic_block
    if kept:
        connection.health_check_done = True
    try:
        _insert_once(row, alias)
    except UNAVAILABLE:
        if not kept or _usable(alias):
            # The database, not this connection, is the trouble: spool.
            raise
        # A database restart since the last request, say: once more on a new
        # connection. Ignoring a stored UUID, in case the first attempt was
        # committed after all.
        connection.close()
        insert_new([row])


def _insert_once(row: HeaderHit, alias: str) -> None:
    connection = connections[alias]
    if connection.vendor != "postgresql":
        # One statement in autocommit: nothing to bound but the connection's
        # own timeout (SQLite's OPTIONS "timeout").
        with writerqueue.turn(connection, conf.DB_TIMEOUT):
            fastinsert.insert_row(row, alias)
    elif fastinsert.sends_several_statements(connection):
        # One round trip: PostgreSQL runs a query of several statements as one
        # implicit transaction, and SET LOCAL ends with it.
        fastinsert.insert_row(row, alias, before=f"SET LOCAL statement_timeout = {_timeout_ms()}")
    else:
        with transaction.atomic(using=alias):
            _limit_statement_time(alias)
            fastinsert.insert_row(row, alias)


def _usable(alias: str) -> bool:
    connection = connections[alias]
    return connection.connection is not None and connection.is_usable()


def insert_new(rows: list[HeaderHit]) -> int:
    """Insert those of ``rows`` whose UUID is not stored yet; returns how many."""
    alias = beacon_alias()
    connection = connections[alias]
    fields = HeaderHit._meta.concrete_fields
    batch_size = max(1, connection.ops.bulk_batch_size(fields, rows))
    inserted = 0
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        _limit_statement_time(alias)
        for start in range(0, len(rows), batch_size):
            # ON CONFLICT DO NOTHING (INSERT OR IGNORE on SQLite), counted by
            # the database's own row count: no SELECT, so an INSERT-only role
            # can replay. bulk_create(ignore_conflicts=True) builds the same
            # statement but does not say how many rows it stored.
            query = InsertQuery(HeaderHit, on_conflict=OnConflict.IGNORE)
            query.insert_values(fields, rows[start : start + batch_size])
            for sql, params in query.get_compiler(using=alias).as_sql():
                cursor.execute(sql, params)
                inserted += cursor.rowcount
    return inserted


def _limit_statement_time(alias: str) -> None:
    # A hung database must not hold a worker for longer than this. The connect
    # timeout is the database's own OPTIONS (check lambdactr_django.W102).
    connection = connections[alias]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(_timeout_ms())])


def _timeout_ms() -> int:
    return max(1, int(conf.DB_TIMEOUT * 1000))


def spool_dir() -> Path | None:
    directory = conf.SPOOL_DIR
    return Path(directory) if directory is not None else None


def append(rows: list[HeaderHit]) -> bool:
    """Append ``rows`` to the spool; False (and counted) when they are not kept."""
    directory = spool_dir()
    if directory is None:
        lost.add(len(rows))
        return False
    # A leading newline ends any line torn by a crash, so it costs only itself.
    data = "".join("\n" + json.dumps(_record(row), separators=(",", ":")) for row in rows) + "\n"
    encoded = data.encode("ascii")
    try:
        kept = _append_bytes(directory, encoded)
    except OSError:
        logger.exception("lambdactr: could not write to the spool in %s", directory)
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
            if spool_size(directory) + len(data) > conf.SPOOL_MAX_BYTES:
                return False
            # One write() with O_APPEND: concurrent writers never interleave.
            os.write(fd, data)
            os.fsync(fd)
            return True
        finally:
            os.close(fd)
    raise OSError(f"spool file {path} kept moving")


def spool_size(directory: Path) -> int:
    return sum(path.stat().st_size for path in _spool_files(directory))


def _spool_files(directory: Path) -> Iterator[Path]:
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return
    for name in sorted(names):
        if name == SPOOL_FILE or (name.startswith(BATCH_PREFIX) and name.endswith(".jsonl")):
            yield directory / name


def has_spooled_hits() -> bool:
    directory = spool_dir()
    return directory is not None and any(True for _ in _spool_files(directory))


def _record(row: HeaderHit) -> dict[str, Any]:
    record: dict[str, Any] = {"id": str(row.id), "created_at": row.created_at.isoformat()}
    for field in row._meta.concrete_fields:
        if field.attname not in ("id", "created_at"):
            record[field.attname] = getattr(row, field.attname)
    return record


def _row(record: dict[str, Any]) -> HeaderHit:
    names = {field.attname for field in HeaderHit._meta.concrete_fields}
    values = {name: value for name, value in record.items() if name in names}
    values["id"] = uuid.UUID(values["id"])
    values["created_at"] = dt.datetime.fromisoformat(values["created_at"])
    return HeaderHit(**values)


def replay(
    *, wait: bool = False, progress: Callable[[ReplayResult], None] | None = None
) -> ReplayResult | None:
    """Store every spooled hit; None when another process is already replaying.

    Safe to interrupt: a file is deleted only once all its rows are stored, and
    rows stored before an interruption are skipped by UUID the next time.
    Raises OperationalError/InterfaceError, keeping the spool, if the database
    is still unavailable.
    """
    directory = spool_dir()
    result = ReplayResult()
    if directory is None or not directory.is_dir():
        return result
    lock = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            return None
        for batch in [p for p in _spool_files(directory) if p.name != SPOOL_FILE]:
            _replay_file(batch, result, progress)
        current = directory / SPOOL_FILE
        if current.exists():
            batch = directory / f"{BATCH_PREFIX}{time.time_ns()}.jsonl"
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
        rows: list[HeaderHit] = []
        for line in data.split(b"\n"):
            if not line.strip():
                continue
            try:
                rows.append(_row(json.loads(line)))
            except (ValueError, TypeError, KeyError, AttributeError):
                # A line torn by a crash mid-write, or not ours.
                result.unreadable += 1
        for start in range(0, len(rows), REPLAY_CHUNK):
            _store_chunk(rows[start : start + REPLAY_CHUNK], result)
            # Spooled hits may belong to days the statistics have already rolled up.
            rollups.refresh_for(row.created_at for row in rows[start : start + REPLAY_CHUNK])
            if progress is not None:
                progress(result)
        os.unlink(path)
    finally:
        os.close(fd)


def _store_chunk(rows: list[HeaderHit], result: ReplayResult) -> None:
    try:
        inserted = insert_new(rows)
    except UNAVAILABLE:
        raise
    except DatabaseError:
        if len(rows) == 1:
            logger.exception("lambdactr: the database refused spooled hit %s", rows[0].id)
            result.rejected += 1
            return
        # Find the bad row rather than lose its neighbours.
        for row in rows:
            _store_chunk([row], result)
        return
    result.stored += inserted
    result.already_stored += len(rows) - inserted


def replay_if_due() -> None:
    global _next_replay_check
    now = time.monotonic()
    if now < _next_replay_check:
        return
    _next_replay_check = now + REPLAY_CHECK_SECONDS
    if not has_spooled_hits():
        return
    try:
        result = replay()
    except UNAVAILABLE:
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
