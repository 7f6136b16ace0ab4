"""What the store's statements may take, and what their failures mean.

The beacon's statement timeout (``LAMBDACTR_DB_TIMEOUT``) and the batches'
(``LAMBDACTR_REPLAY_TIMEOUT``); which errors mean "try again later", so the hit
is spooled, and which "this row can never be stored". store/database.py sends
the statements; only the limit is set here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import InterfaceError, OperationalError, connections

from lambdactr_django.conf import conf

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

# Errors that say "the database is not there right now", as opposed to "this
# row can never be stored". A statement timeout is one of them to Django, yet it
# may say "this batch is too big for the time allowed": see ``unavailable``.
UNAVAILABLE = (OperationalError, InterfaceError)
# PostgreSQL's query_canceled: statement_timeout fired (or someone cancelled).
STATEMENT_TIMEOUT = "57014"


def unavailable(error: BaseException) -> bool:
    """True when ``error`` means "try again later": the database is down, unreachable
    or busy (a lock wait timed out). False for a statement that ran out of time on
    its own, which only a smaller batch can cure, and for a refused row."""
    if not isinstance(error, UNAVAILABLE):
        return False
    return getattr(error.__cause__, "sqlstate", None) != STATEMENT_TIMEOUT


def batch_timeout() -> float:
    """The time one batch of the replay or the flusher may take: not the beacon's."""
    return float(max(conf.REPLAY_TIMEOUT, conf.DB_TIMEOUT))


def timeout_ms(seconds: float | None = None) -> int:
    return max(1, int((conf.DB_TIMEOUT if seconds is None else seconds) * 1000))


def sends_several_statements(connection: BaseDatabaseWrapper) -> bool:
    """True when one ``execute()`` may hold several statements: PostgreSQL with
    Django's default client-side binding, which sends them as one simple query."""
    # Server-side binding (OPTIONS "server_side_binding", psycopg 3) sends one
    # statement per execute(), as the extended protocol requires.
    return (
        connection.vendor == "postgresql"
        and connection.settings_dict["OPTIONS"].get("server_side_binding") is not True
    )


def limit_statement_time(alias: str, *, batch: bool = False) -> None:
    # A hung database must not hold a worker for longer than this. The connect
    # timeout is the database's own OPTIONS (check lambdactr_django.W102).
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if not batch:
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(timeout_ms())])
            return
        # A batch gets longer to run, but no longer to wait for a lock: a lock
        # wait is "busy, come back later" (lock_timeout, 55P03), never taken
        # for a batch too big (statement_timeout, 57014), which is split.
        cursor.execute(
            "SELECT set_config('statement_timeout', %s, true), "
            "set_config('lock_timeout', %s, true)",
            [str(timeout_ms(batch_timeout())), str(timeout_ms())],
        )
