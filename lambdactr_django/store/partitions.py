"""Monthly partitions of the hit table on PostgreSQL (``lambdactr_partition``; docs/scaling.md).

The table is partitioned BY RANGE on its key: a UUIDv7 begins with its
millisecond of creation, so the UUID ``<ms of the 1st of a month>-0…0`` is where
that month's keys begin (UUIDs compare byte by byte). The primary key stays
``id`` alone and the model is unchanged; a month is a partition named
``<table>_yYYYYmMM``, created ahead of time, and a DEFAULT partition takes any
key outside them, so an insert never fails for want of one. Retention drops a
month whole once every row in it is older than the cutoff (checked, since a
row's key time and ``created_at`` can differ: imported hits, say). SQLite, and
a PostgreSQL table never converted, are left as they are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from django.db import OperationalError, connections, transaction

from lambdactr_django.models import HeaderHit
from lambdactr_django.store import database

TABLE = HeaderHit._meta.db_table
DEFAULT = f"{TABLE}_default"
# The table being built by a conversion, renamed to TABLE at its end.
BUILDING = f"{TABLE}_partitioned"
_BOUND = re.compile(r"FROM \('([0-9a-f-]{36})'\) TO \('([0-9a-f-]{36})'\)")


@dataclasses.dataclass(frozen=True)
class Partition:
    name: str
    low: uuid.UUID
    high: uuid.UUID

    @property
    def month(self) -> dt.date:
        return month_of(self.low)


def key_at(instant: dt.datetime) -> uuid.UUID:
    """The smallest UUIDv7 made at ``instant`` (to the millisecond)."""
    milliseconds = int(instant.timestamp() * 1000)
    return uuid.UUID(f"{milliseconds:012x}" + "0" * 20)


def month_start(month: dt.date) -> dt.datetime:
    return dt.datetime(month.year, month.month, 1, tzinfo=dt.UTC)


def next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_of(key: uuid.UUID) -> dt.date:
    instant = dt.datetime.fromtimestamp(int(key.hex[:12], 16) / 1000, dt.UTC)
    return dt.date(instant.year, instant.month, 1)


def name_of(month: dt.date) -> str:
    return f"{TABLE}_y{month.year:04d}m{month.month:02d}"


def _quote(alias: str, name: str) -> str:
    return str(connections[alias].ops.quote_name(name))


def supported(alias: str | None = None) -> bool:
    return connections[alias or database.beacon_alias()].vendor == "postgresql"


def is_partitioned(alias: str | None = None, table: str = TABLE) -> bool:
    alias = alias or database.beacon_alias()
    if not supported(alias):
        return False
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table])
        found = cursor.fetchone()
    return found is not None and found[0] == "p"


def partitions(alias: str | None = None, table: str = TABLE) -> list[Partition]:
    """The table's monthly partitions, oldest first (the DEFAULT one is not listed)."""
    alias = alias or database.beacon_alias()
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(%s)",
            [table],
        )
        found = cursor.fetchall()
    months = []
    for name, bound in found:
        match = _BOUND.search(bound or "")
        if match:
            months.append(Partition(name, uuid.UUID(match[1]), uuid.UUID(match[2])))
    return sorted(months, key=lambda partition: partition.low)


def create_month(month: dt.date, alias: str | None = None, table: str = TABLE) -> bool:
    """Create ``month``'s partition unless it exists; rows of that month that went to the
    DEFAULT partition meanwhile move into it. True when it was created."""
    alias = alias or database.beacon_alias()
    name = name_of(month)
    if any(partition.name == name for partition in partitions(alias, table)):
        return False
    low, high = key_at(month_start(month)), key_at(month_start(next_month(month)))
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        moving = database.take_from_default(alias, DEFAULT, low, high)
        cursor.execute(
            f"CREATE TABLE {_quote(alias, name)} PARTITION OF {_quote(alias, table)} "
            "FOR VALUES FROM (%s) TO (%s)",
            [str(low), str(high)],
        )
        database.put_back(alias, table, moving)
    return True


def create_ahead(
    months: int = 3, alias: str | None = None, now: dt.datetime | None = None
) -> list[str]:
    """This month's partition and the next ``months``' ones; the names created."""
    alias = alias or database.beacon_alias()
    when = now or dt.datetime.now(dt.UTC)
    month = dt.date(when.year, when.month, 1)
    created = []
    for _ in range(months + 1):
        if create_month(month, alias):
            created.append(name_of(month))
        month = next_month(month)
    return created


def drop_before(
    cutoff: dt.datetime,
    forget: Callable[[dt.datetime, dt.datetime], None],
    alias: str | None = None,
) -> Iterator[tuple[str, int]]:
    """Drop each month whose every row was made before ``cutoff``: the name and about how
    many rows it held, as each goes. ``forget(first, last)`` is called in the same transaction
    with the times of its oldest and newest row, for the rollups of those days."""
    alias = alias or database.beacon_alias()
    if not is_partitioned(alias):
        return
    bound = key_at(cutoff)
    for partition in partitions(alias):
        if partition.high > bound:
            break
        for _ in range(DROP_ATTEMPTS):
            try:
                rows = _drop(partition, cutoff, forget, alias)
                break
            except OperationalError as error:
                if getattr(error.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                    raise
                time.sleep(DROP_RETRY_SECONDS)
        else:
            raise PartitionBusy(partition.name)
        if rows is not None:
            yield partition.name, rows


class PartitionBusy(Exception):
    """The hit table stayed locked by others (a long query) for every attempt."""


# Dropping a partition locks the whole table (ACCESS EXCLUSIVE on the parent):
# never queue behind a long query for longer than a beacon would wait.
DROP_ATTEMPTS = 3
DROP_RETRY_SECONDS = 5.0
LOCK_NOT_AVAILABLE = "55P03"


def _drop(
    partition: Partition,
    cutoff: dt.datetime,
    forget: Callable[[dt.datetime, dt.datetime], None],
    alias: str,
) -> int | None:
    quoted = _quote(alias, partition.name)
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [str(database.timeout_ms())])
        cursor.execute(f"LOCK TABLE {_quote(alias, TABLE)} IN ACCESS EXCLUSIVE MODE")
        # Both from the created_at index: no scan of the month.
        cursor.execute(
            f"SELECT min(created_at), max(created_at), "  # noqa: S608
            f"EXISTS (SELECT 1 FROM {quoted} WHERE created_at >= %s) FROM {quoted}",
            [cutoff],
        )
        first, last, newer = cursor.fetchone()
        if newer:
            return None  # Left to the row-by-row delete.
        # The planner's estimate: a count would read the whole month.
        cursor.execute(
            "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE relname = %s",
            [partition.name],
        )
        (rows,) = cursor.fetchone()
        if first is not None:
            forget(first, last)
        cursor.execute(f"DROP TABLE {quoted}")
    return int(rows)


# Converting a table that is not partitioned ----------------------------------


class ConversionError(Exception):
    pass


def conversion_started(alias: str | None = None) -> bool:
    return is_partitioned(alias, BUILDING)


def start_conversion(alias: str | None = None, months_ahead: int = 3) -> None:
    """Build the partitioned table beside the hit table: its columns, key and indexes
    (under temporary names), a DEFAULT partition and a month for each month the hits'
    keys span, and ``months_ahead`` more. Quick: no row is copied. Idempotent."""
    alias = alias or database.beacon_alias()
    if is_partitioned(alias) or conversion_started(alias):
        return
    quote = connections[alias].ops.quote_name
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {quote(BUILDING)} (LIKE {quote(TABLE)} INCLUDING DEFAULTS "
            "INCLUDING CONSTRAINTS INCLUDING STORAGE) PARTITION BY RANGE (id)"
        )
        cursor.execute(f"ALTER TABLE {quote(BUILDING)} ADD PRIMARY KEY (id)")
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname "
            "NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(%s))",
            [TABLE, TABLE],
        )
        for number, (name, definition) in enumerate(cursor.fetchall()):
            temporary = f"{BUILDING}_{number}"
            head = re.match(r"^CREATE (UNIQUE )?INDEX \S+ ON \S+ ", definition)
            if head is None:
                raise ConversionError(f"cannot read the definition of index {name}")
            statement = (
                f"CREATE {head[1] or ''}INDEX {quote(temporary)} ON {quote(BUILDING)} "
                + definition[head.end() :]
            )
            cursor.execute(statement)
            # Where the swap finds the name Django gave it.
            cursor.execute(f"COMMENT ON INDEX {quote(temporary)} IS %s", [f"lambdactr:{name}"])
        cursor.execute(f"CREATE TABLE {quote(DEFAULT)} PARTITION OF {quote(BUILDING)} DEFAULT")
        cursor.execute(f"SELECT id FROM {quote(TABLE)} ORDER BY id LIMIT 1")  # noqa: S608
        oldest = cursor.fetchone()
    now = dt.datetime.now(dt.UTC)
    month = month_of(oldest[0]) if oldest else dt.date(now.year, now.month, 1)
    last = dt.date(now.year, now.month, 1)
    for _ in range(months_ahead):
        last = next_month(last)
    while month <= last:
        create_month(month, alias, BUILDING)
        month = next_month(month)


def copy_batch(size: int, alias: str | None = None) -> int:
    """Copy the next ``size`` hits, by key, into the table being built; how many."""
    alias = alias or database.beacon_alias()
    quote = connections[alias].ops.quote_name
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.execute(f"SELECT id FROM {quote(BUILDING)} ORDER BY id DESC LIMIT 1")  # noqa: S608
        done = cursor.fetchone()
        after = done[0] if done else None
        return database.copy_keys_after(alias, TABLE, BUILDING, after, size)


def finish_conversion(alias: str | None = None) -> int:
    """Copy the rest under a lock, check, and swap: the table being built takes the hit
    table's name, key, index names and grants. Returns the rows the new table holds."""
    alias = alias or database.beacon_alias()
    quote = connections[alias].ops.quote_name
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        # Beacons wait here (up to LAMBDACTR_DB_TIMEOUT, then spool): keep it short.
        cursor.execute(f"LOCK TABLE {quote(TABLE)} IN ACCESS EXCLUSIVE MODE")
        while copy_batch(100_000, alias):
            pass
        counts = _counts(cursor, alias)
        if counts[0] != counts[1]:
            # Rows with older keys stored meanwhile (a replayed spool, say).
            database.copy_missing(alias, TABLE, BUILDING)
            counts = _counts(cursor, alias)
        if counts[0] != counts[1]:
            raise ConversionError(
                f"the hit table has {counts[0]} rows and the partitioned one {counts[1]}: "
                "hits were deleted during the conversion. Run lambdactr_partition --abort, "
                "then convert again without lambdactr_prune running."
            )
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype = 'p'",
            [TABLE],
        )
        (primary_key,) = cursor.fetchone()
        cursor.execute(
            "SELECT grantee, privilege_type FROM information_schema.role_table_grants "
            "WHERE table_name = %s AND grantee <> current_user",
            [TABLE],
        )
        grants = cursor.fetchall()
        cursor.execute(f"DROP TABLE {quote(TABLE)}")
        cursor.execute(f"ALTER TABLE {quote(BUILDING)} RENAME TO {quote(TABLE)}")
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype = 'p'",
            [TABLE],
        )
        (current,) = cursor.fetchone()
        cursor.execute(
            f"ALTER TABLE {quote(TABLE)} RENAME CONSTRAINT {quote(current)} TO {quote(primary_key)}"
        )
        cursor.execute(
            "SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass(%s)",
            [TABLE],
        )
        for name, comment in cursor.fetchall():
            if comment and comment.startswith("lambdactr:"):
                original = quote(comment.removeprefix("lambdactr:"))
                cursor.execute(f"ALTER INDEX {quote(name)} RENAME TO {original}")
                cursor.execute(f"COMMENT ON INDEX {original} IS NULL")
        for grantee, privilege in grants:
            cursor.execute(f"GRANT {privilege} ON {quote(TABLE)} TO {quote(grantee)}")
    return counts[1]


def _counts(cursor: Any, alias: str) -> tuple[int, int]:
    found = []
    for table in (TABLE, BUILDING):
        cursor.execute(f"SELECT count(*) FROM {_quote(alias, table)}")  # noqa: S608
        found.append(int(cursor.fetchone()[0]))
    return found[0], found[1]


def abort_conversion(alias: str | None = None) -> None:
    """Drop the table being built; the hit table was never touched."""
    alias = alias or database.beacon_alias()
    with connections[alias].cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {connections[alias].ops.quote_name(BUILDING)}")
