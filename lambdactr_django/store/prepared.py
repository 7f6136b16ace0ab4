"""The beacon's INSERT on a cursor kept per connection; on PostgreSQL, prepared once.

PostgreSQL parses and plans an INSERT sent as text every time: 163 to 263 µs of
its CPU per hit, against 67 to 93 µs for a prepared one (docs/fast-path.md). So
each connection gets the INSERT once as ``PREPARE lambdactr_hit_insert AS
INSERT …``, and each hit is ``SET LOCAL statement_timeout = …; EXECUTE
lambdactr_hit_insert (…)``: SQL's PREPARE, not the protocol's, so with
client-side binding the timeout still goes in the same simple query, one round
trip. A session may lose the statement behind this process's back (``DISCARD
ALL``, a pooler handing over another server connection): the hit is sent again
at once, re-preparing. Only in autocommit, where a failed query rolls back
alone; inside a caller's transaction, or with ``DISABLE_SERVER_SIDE_CURSORS``
(Django's word for a transaction-pooling PgBouncer, where every transaction may
meet another session), the INSERT goes as text, as before.

On SQLite, the INSERT's placeholders are made SQLite's once, not by Django's
cursor on every hit.
"""

from __future__ import annotations

import re
import sqlite3
from typing import TYPE_CHECKING, Any

try:
    from psycopg import errors, pq
    from psycopg.adapt import Transformer
except ImportError:  # No psycopg 3: SQLite, or psycopg2's cursor.
    pass

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

NAME = "lambdactr_hit_insert"
# invalid_sql_statement_name: EXECUTE of a statement this session lacks;
# duplicate_prepared_statement: PREPARE of one it has.
MISSING = "26000"
EXISTS = "42P05"

# The INSERT's text -> its PREPARE, and the EXECUTE for its parameters; and
# -> the INSERT with SQLite's placeholders.
_prepared: dict[str, tuple[str, str]] = {}
_qmark: dict[str, str] = {}
# A query with its parameters' places, as psycopg's bytes template: one per
# size of a commit group (store/group.py), so at most group.LARGEST of each kind.
_templates: dict[str, bytes] = {}


def send(
    connection: BaseDatabaseWrapper, sql: str, rows: list[list[Any]], before: str = ""
) -> None:
    """Run the INSERT ``sql`` once per parameter list of ``rows`` on ``connection``'s
    kept cursor, ``before`` (a statement without parameters) first; with ``before``
    (PostgreSQL's several statements), all in one round trip and one implicit
    transaction. Without it, in the caller's transaction if there are several."""
    cursor = _cursor(connection)
    if connection.vendor == "sqlite" and isinstance(cursor, sqlite3.Cursor):
        query = _qmark.get(sql)
        if query is None:
            query = _qmark[sql] = cursor.convert_query(sql)  # type: ignore[attr-defined]
        # sqlite3's own execute: Django's would turn %s into ? again, a
        # regular expression over the INSERT on every hit.
        if len(rows) == 1:
            sqlite3.Cursor.execute(cursor, query, rows[0])
        else:
            sqlite3.Cursor.executemany(cursor, query, rows)
        return
    if not before:
        # One statement per execute(): server-side binding allows no more.
        for params in rows:
            cursor.execute(sql, params)
        return
    if (
        connection.vendor != "postgresql"
        or connection.in_atomic_block
        or connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
    ):
        cursor.execute(*as_text(sql, rows, before))
        return
    _execute(connection, cursor, sql, rows, before)


def as_text(sql: str, rows: list[list[Any]], before: str) -> tuple[str, list[Any]]:
    """``before`` and one INSERT per row as one query of several statements, and
    its parameters: what any session takes, prepared statement or not."""
    return "; ".join([before, *[sql] * len(rows)]), [value for row in rows for value in row]


def _execute(
    connection: BaseDatabaseWrapper, cursor: Any, sql: str, rows: list[list[Any]], before: str
) -> None:
    prepare, execute = _statements(sql)
    executes = "; ".join([execute] * len(rows))
    params = [value for row in rows for value in row]
    # The psycopg connection known to hold the statement, kept on Django's: a
    # new one (a reconnect, CONN_MAX_AGE) is not it. An identity check, not a
    # WeakSet's lookup: this runs on every hit.
    session = connection.connection
    # At most twice as the prepared statement: what the session says it has or
    # lacks is believed the second time. A third time only if a pooler hands
    # each query another session: then as text, which any session takes.
    for _attempt in range(2):
        ready = getattr(connection, "_lambdactr_prepared", None) is session
        query = f"{before}; {executes}" if ready else f"{before}; {prepare}; {executes}"
        try:
            _run(cursor, query, params)
        except Exception as error:
            # Raw driver errors here: Django wraps them further out. In
            # autocommit the failed query's implicit transaction is rolled
            # back whole, the hits with it, so they may be sent again.
            code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
            if code not in (MISSING, EXISTS):
                # Whether the PREPARE ran before the failure is unknown: the
                # next hit prepares, and learns from EXISTS if it had.
                _mark(connection, None)
                raise
            _mark(connection, session if code == EXISTS else None)
        else:
            _mark(connection, session)
            return
    cursor.execute(*as_text(sql, rows, before))


def _run(cursor: Any, query: str, params: list[Any]) -> None:
    session: Any = getattr(cursor, "connection", None)
    pgconn = getattr(session, "pgconn", None)
    if pgconn is None:
        # Not psycopg 3's: the cursor's own way.
        cursor.execute(query, params)
        return
    # psycopg 3's libpq connection straight: the same literals its client-side
    # cursor would make (its Transformer, with the connection's adapters), in
    # one PQexec, without the cursor's machinery around them (its query
    # parsing, prepare bookkeeping, generators and result handling: 45,000
    # instructions, 5 % of a durable hit). Only for these statements, which
    # return no rows.
    template = _templates.get(query)
    if template is None:
        template = _templates[query] = query.replace("%", "%%").replace("%%s", "%s").encode()
    tx = _transformer(session)
    literals = tuple(b"NULL" if p is None else tx.as_literal(p) for p in params)
    result = pgconn.exec_(template % literals)
    if result.status == pq.ExecStatus.COMMAND_OK:
        return
    if pgconn.status == pq.ConnStatus.BAD:
        # A lost connection (no SQLSTATE): an OperationalError, as psycopg's
        # cursor raises it, so that the store tries a new one, then spools.
        raise errors.OperationalError(pq.error_message(result, encoding=session.info.encoding))
    raise errors.error_from_result(result, encoding=session.info.encoding)


def _transformer(session: Any) -> Any:
    # One per session, as psycopg's cursor keeps one while it runs the same
    # query: its dumpers, once looked up, serve every hit.
    kept = getattr(session, "_lambdactr_transformer", None)
    if kept is None:
        kept = Transformer(session)
        session._lambdactr_transformer = kept
    return kept


def _mark(connection: BaseDatabaseWrapper, session: Any) -> None:
    connection._lambdactr_prepared = session  # type: ignore[attr-defined]


def _statements(sql: str) -> tuple[str, str]:
    texts = _prepared.get(sql)
    if texts is None:
        numbers = iter(range(1, sql.count("%s") + 1))
        # Parameter types left to PostgreSQL, which takes the columns'.
        numbered = re.sub("%s", lambda _match: f"${next(numbers)}", sql)
        placeholders = ", ".join(["%s"] * sql.count("%s"))
        texts = _prepared[sql] = (
            f"PREPARE {NAME} AS {numbered}",
            f"EXECUTE {NAME} ({placeholders})",
        )
    return texts


def _cursor(connection: BaseDatabaseWrapper) -> Any:
    kept = getattr(connection, "_lambdactr_cursor", None)
    if kept is None or kept[0] is not connection.connection:
        kept = (connection.connection, connection.create_cursor())
        connection._lambdactr_cursor = kept  # type: ignore[attr-defined]
    return kept[1]
