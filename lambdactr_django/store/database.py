"""The one place the store talks to the database: every row of a hit reaches it here.

A single new row goes in with one prebuilt INSERT rather than ``row.save()``,
which spends most of its time in Django's machinery: its signals, and
compiling the INSERT afresh on every call (docs/performance-profile.md). The
statement is built once per alias and each value converted the way the field
itself would (``get_db_prep_save``), so every backend stores exactly what
``save()`` stores. Batches go in with COPY on PostgreSQL. Every path needs
only INSERT on the table, so the beacon may use an INSERT-only role.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.db import (
    IntegrityError,
    connections,
    models,
    router,
    transaction,
)
from django.db.models import Field as ModelField, Model
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery

from lambdactr_django.conf import conf
from lambdactr_django.hits import COLUMNS
from lambdactr_django.models import HeaderHit, column_of
from lambdactr_django.store import prepared, sqlite_writers
from lambdactr_django.store.limits import (
    UNAVAILABLE as UNAVAILABLE,
    limit_statement_time,
    sends_several_statements,
    timeout_ms as timeout_ms,
    unavailable as unavailable,
)
from lambdactr_django.store.rows import Record, row_of

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper as Wrapper
    from django.db.models import Field

# The temporary table a month's rows wait in while their partition is made.
MOVING = "lambdactr_moving"


def beacon_alias() -> str:
    """The database alias the beacon, and the replay of its spool, insert into."""
    # Only here: the beacon needs INSERT alone, so LAMBDACTR_BEACON_DATABASE may
    # name an INSERT-only role. Everything else that writes (the admin's
    # deletes, lambdactr_prune, lambdactr_reclassify) goes through the router.
    return conf.BEACON_DATABASE or router.db_for_write(HeaderHit) or "default"


def insert(values: Record) -> None:
    """Insert one new row (``rows.new_values``), committed before this returns."""
    insert_group([values])


def insert_group(group: Sequence[Record], connection: Wrapper | None = None) -> None:
    """Insert new rows in one transaction, one round trip on PostgreSQL, committed
    before this returns: a commit group's (store/group.py), or one hit's. All or
    none. ``connection``: this thread's of ``beacon_alias()``, if the caller has it."""
    # Looked up once and handed on: a thread-local's lookup, 1 µs each time.
    connection = connection or connections[beacon_alias()]
    # A connection kept from an earlier request: Django would check it with a
    # SELECT 1 first (CONN_HEALTH_CHECKS), one round trip on every hit, a
    # quarter of the beacon's time (docs/performance-profile.md). Skip that,
    # and replace it below if it turns out to be dead.
    kept = connection.connection is not None and not connection.in_atomic_block
    if kept:
        connection.health_check_done = True  # type: ignore[attr-defined]
    try:
        _insert_once(group, connection)
    except UNAVAILABLE:
        if not kept or (connection.connection is not None and connection.is_usable()):
            # The database, not this connection, is the trouble: spool.
            raise
        # A database restart since the last request, say: once more on a new
        # connection. Ignoring a stored UUID, in case the first attempt was
        # committed after all.
        connection.close()
        insert_new([HeaderHit(**values) for values in group])


def _insert_once(group: Sequence[Record], connection: Wrapper) -> None:
    alias = connection.alias
    if connection.vendor != "postgresql":
        # One statement in autocommit, or a group's in one transaction: the
        # wait for its turn and SQLite's own busy wait together within
        # LAMBDACTR_DB_TIMEOUT.
        deadline = time.monotonic() + conf.DB_TIMEOUT
        with (
            sqlite_writers.turn(connection, conf.DB_TIMEOUT),
            sqlite_writers.busy_wait_until(connection, deadline),
            transaction.atomic(using=alias) if len(group) > 1 else contextlib.nullcontext(),
        ):
            _insert_rows(group, connection)
    elif sends_several_statements(connection):
        # One round trip: PostgreSQL runs a query of several statements as one
        # implicit transaction, and SET LOCAL ends with it.
        _insert_rows(group, connection, f"SET LOCAL statement_timeout = {timeout_ms()}")
    else:
        with transaction.atomic(using=alias):
            limit_statement_time(alias)
            _insert_rows(group, connection)


def try_insert(values: Record, *, keep_connection: bool = True) -> None:
    """Connect and send ``insert``'s statement, then roll it back: a worker's
    warm-up. Nothing is stored; raises what the database raises."""
    connection = connections[beacon_alias()]
    try:
        with transaction.atomic(using=connection.alias):
            _insert_once([values], connection)
            transaction.set_rollback(True, using=connection.alias)
    except BaseException:
        # Whatever state it is in, the first hit starts from a new connection.
        connection.close()
        raise
    if not keep_connection:
        connection.close()


def insert_new(rows: Sequence[HeaderHit], *, batch: bool = False, alias: str | None = None) -> int:
    """Insert those of ``rows`` whose UUID is not stored yet; returns how many.

    ``batch``: the replay's or the flusher's statement, allowed ``batch_timeout()``
    rather than the beacon's ``LAMBDACTR_DB_TIMEOUT``. ``alias``: the beacon's
    database unless given.
    """
    alias = alias or beacon_alias()
    connection = connections[alias]
    fields = HeaderHit._meta.concrete_fields
    batch_size = max(1, connection.ops.bulk_batch_size(fields, rows))
    inserted = 0
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        limit_statement_time(alias, batch=batch)
        for start in range(0, len(rows), batch_size):
            # ON CONFLICT DO NOTHING (INSERT OR IGNORE on SQLite), counted by
            # the database's own row count: no SELECT, so an INSERT-only role
            # can replay. bulk_create(ignore_conflicts=True) builds the same
            # statement but does not say how many rows it stored.
            query = InsertQuery(HeaderHit, on_conflict=OnConflict.IGNORE)
            objects: list[Model] = list(rows[start : start + batch_size])
            query.insert_values(fields, objects)
            for sql, params in query.get_compiler(using=alias).as_sql():
                cursor.execute(sql, params)
                inserted += cursor.rowcount
    return inserted


# Fields whose get_db_prep_save() gives back a str or bool as it is: their
# values skip it. Exactly these classes, not subclasses that may convert.
_AS_THEY_ARE = (models.CharField, models.TextField, models.BooleanField)
_PLAIN_VALUES = (str, bool)

# Per alias: the INSERT, and each column's name, field, and whether a plain
# value goes as it is.
_Plan = list[tuple[str, "Field[Any, Any]", bool]]
_statements: dict[str, tuple[str, _Plan]] = {}


def _statement(connection: Wrapper) -> tuple[str, _Plan]:
    cached = _statements.get(connection.alias)
    if cached is None:
        quote = connection.ops.quote_name
        fields = list(HeaderHit._meta.concrete_fields)
        columns = ", ".join(quote(column_of(field)) for field in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        # Names from the model, quoted by the backend; values go as parameters.
        table = quote(HeaderHit._meta.db_table)
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
        plan = [(f.attname, f, type(f) in _AS_THEY_ARE) for f in fields]
        cached = _statements[connection.alias] = (sql, plan)
    return cached


def prepare(values: Record) -> None:
    """Build the beacon's INSERT and convert ``values``, without sending them."""
    _parameters(values, connections[beacon_alias()])


def _parameters(values: Record, connection: Wrapper) -> list[Any]:
    # Each value as its field would convert it for this database (a UUID, a
    # time, the headers' JSON); the texts and flags need no conversion.
    _sql, plan = _statement(connection)
    params = []
    for name, field, plain in plan:
        value = values[name]
        if not (plain and type(value) in _PLAIN_VALUES):
            value = field.get_db_prep_save(value, connection)
        params.append(value)
    return params


def insert_rows(group: Sequence[Record], alias: str, *, before: str = "") -> None:
    """INSERT new rows, as their columns' values with their keys set, on ``alias``.

    ``before``, a statement without parameters, is sent with the INSERTs in the
    same round trip; only where ``sends_several_statements`` says so. Without
    it, several rows need the caller's transaction to be one.
    """
    _insert_rows(group, connections[alias], before)


def _insert_rows(group: Sequence[Record], connection: Wrapper, before: str = "") -> None:
    sql, _plan = _statement(connection)
    params = [_parameters(values, connection) for values in group]
    if connection.queries_logged or connection.execute_wrappers:
        # Seen by whatever watches Django's queries (assertNumQueries, the
        # debug toolbar, an execute_wrapper): through its cursor, as any query.
        with connection.cursor() as cursor:
            if before:
                cursor.execute(*prepared.as_text(sql, params, before))
            else:
                for row in params:
                    cursor.execute(sql, row)
        return
    # Else one cursor per connection, kept, and Django's checks without its
    # wrapper of a new cursor per hit, which costs more than it does here; on
    # PostgreSQL, the INSERT prepared once per connection (store/prepared.py).
    connection.validate_thread_sharing()
    connection.validate_no_broken_transaction()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        prepared.send(connection, sql, params, before)


def copy_records(records: Sequence[Record], alias: str) -> int:
    """COPY new rows, as records, in one transaction on PostgreSQL; returns how many."""
    # COPY: a fraction of the CPU of a multi-row INSERT (docs/performance-buffered.md).
    # No ON CONFLICT: these UUIDs were never stored; a batch whose commit is in
    # doubt goes to the spool, whose replay skips what is stored.
    connection = connections[alias]
    fields = HeaderHit._meta.concrete_fields
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column_of(f)) for f in fields)
    # Each column's value by name, and whether it goes as JSON text.
    kinds = [(f.attname, f.get_internal_type() == "JSONField") for f in fields]
    sql = f"COPY {quote(HeaderHit._meta.db_table)} ({columns}) FROM STDIN"
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        limit_statement_time(alias, batch=True)
        # Text format: the server reads the UUID and the ISO time as their types.
        # Django wraps execute() in its own errors but not copy(): without this a
        # psycopg error (a timeout, say) escapes every handler written for Django's.
        with connection.wrap_database_errors, cursor.copy(sql) as copy:
            for values in records:
                copy.write_row([json.dumps(values[n]) if j else values[n] for n, j in kinds])
    return len(records)


def store_new_records(records: Sequence[Record]) -> int:
    """Store those of ``records`` whose UUID is not stored yet, in one transaction;
    returns how many. COPY on PostgreSQL; the broker's consumer, whose entries may
    come twice (a batch committed, its acknowledgement lost)."""
    alias = beacon_alias()
    if connections[alias].vendor == "postgresql":
        try:
            return copy_records(records, alias)
        except IntegrityError:
            # Most likely a key stored already: the batch again, skipping those.
            pass
    return insert_new([row_of(values) for values in records], batch=True)


def load_rows(alias: str, rows: Iterable[tuple[Any, ...]]) -> None:
    """Load many new rows fast, in the caller's transaction: tuples in the order of
    ``hits.COLUMNS`` with the headers as JSON text (lambdactr_seed's rows)."""
    if connections[alias].vendor == "postgresql":
        _copy_rows(alias, rows)
    else:
        _bulk_rows(alias, rows)


def _copy_rows(alias: str, rows: Iterable[tuple[Any, ...]]) -> None:
    connection = connections[alias]
    connection.ensure_connection()
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column_of(HeaderHit._meta.get_field(name))) for name in COLUMNS)
    sql = f"COPY {quote(HeaderHit._meta.db_table)} ({columns}) FROM STDIN"
    # The psycopg 3 connection itself: Django's cursor wrapper has no copy().
    with connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def _bulk_rows(alias: str, rows: Iterable[tuple[Any, ...]]) -> None:
    headers = COLUMNS.index("headers")
    objects = [
        HeaderHit(**{**dict(zip(COLUMNS, row, strict=True)), "headers": json.loads(row[headers])})
        for row in rows
    ]
    HeaderHit.objects.using(alias).bulk_create(objects, batch_size=1000)


def load_new_rows(alias: str, rows: Sequence[tuple[Any, ...]]) -> int:
    """Insert those of ``rows`` whose UUID is not stored yet, in one transaction;
    returns how many. Tuples as ``load_rows`` takes them (lambdactr_import_log's)."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return _insert_new_rows(alias, rows)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column_of(HeaderHit._meta.get_field(name))) for name in COLUMNS)
    table = quote(HeaderHit._meta.db_table)
    # COPY has no ON CONFLICT: into a table of this transaction's own, then on
    # into the hits skipping the keys stored already.
    staging = quote("lambdactr_new_rows")
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        limit_statement_time(alias, batch=True)
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        with (
            connection.wrap_database_errors,
            cursor.copy(f"COPY {staging} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging} "  # noqa: S608
            "ON CONFLICT DO NOTHING"
        )
        stored = int(cursor.rowcount)
        # ON COMMIT DROP alone would leave it to a caller's outer transaction.
        cursor.execute(f"DROP TABLE {staging}")
    return stored


def _insert_new_rows(alias: str, rows: Sequence[tuple[Any, ...]]) -> int:
    connection = connections[alias]
    quote = connection.ops.quote_name
    fields = [HeaderHit._meta.get_field(name) for name in COLUMNS]
    columns = ", ".join(quote(column_of(field)) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    table = quote(HeaderHit._meta.db_table)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) ON CONFLICT DO NOTHING"  # noqa: S608
    # The key and the time converted as their fields convert them; the texts,
    # flags and the headers' JSON text are stored as they are.
    key = HeaderHit._meta.pk
    created_at = HeaderHit._meta.get_field("created_at")
    assert key is not None
    assert isinstance(created_at, ModelField)
    values = [
        (
            key.get_db_prep_save(row[0], connection),
            created_at.get_db_prep_save(row[1], connection),
            *row[2:],
        )
        for row in rows
    ]
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        cursor.executemany(sql, values)
        return int(cursor.rowcount)


# Moving stored rows between tables: the monthly partitions (store/partitions.py).


def take_from_default(alias: str, default: str, low: uuid.UUID, high: uuid.UUID) -> int:
    """Move the rows of ``default`` with keys in [low, high) to a temporary table
    that goes with the transaction; how many."""
    quote = connections[alias].ops.quote_name
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [default])
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute(f"CREATE TEMPORARY TABLE {MOVING} (LIKE {quote(default)}) ON COMMIT DROP")
        cursor.execute(
            f"WITH moved AS (DELETE FROM {quote(default)} WHERE id >= %s AND id < %s "  # noqa: S608
            f"RETURNING *) INSERT INTO {MOVING} SELECT * FROM moved",
            [str(low), str(high)],
        )
        return int(cursor.rowcount)


def put_back(alias: str, table: str, count: int) -> None:
    """Insert what ``take_from_default`` moved into ``table`` (its new partition)."""
    quote = connections[alias].ops.quote_name
    with connections[alias].cursor() as cursor:
        if count:
            cursor.execute(f"INSERT INTO {quote(table)} SELECT * FROM {MOVING}")  # noqa: S608
            assert cursor.rowcount == count
        # Not left to the commit: the caller's transaction may make another month.
        cursor.execute(f"DROP TABLE IF EXISTS {MOVING}")


def copy_keys_after(
    alias: str, source: str, target: str, after: uuid.UUID | None, size: int
) -> int:
    """Copy the next ``size`` rows of ``source`` by key, after ``after``; how many."""
    quote = connections[alias].ops.quote_name
    since = "WHERE id > %s " if after is not None else ""
    with connections[alias].cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(target)} SELECT * FROM {quote(source)} {since}"  # noqa: S608
            "ORDER BY id LIMIT %s ON CONFLICT (id) DO NOTHING",
            [*([str(after)] if after is not None else []), size],
        )
        return int(cursor.rowcount)


def copy_missing(alias: str, source: str, target: str) -> int:
    """Copy the rows of ``source`` whose key ``target`` lacks; how many."""
    quote = connections[alias].ops.quote_name
    with connections[alias].cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(target)} SELECT * FROM {quote(source)} s "  # noqa: S608
            f"WHERE NOT EXISTS (SELECT 1 FROM {quote(target)} t WHERE t.id = s.id)"
        )
        return int(cursor.rowcount)
