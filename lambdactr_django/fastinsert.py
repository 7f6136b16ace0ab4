"""Store a new hit with one prebuilt INSERT, without a model ``save()``.

``row.save()`` spends most of its time in Django's machinery rather than in the
database: its signals, and compiling the INSERT afresh on every call
(docs/performance-profile.md). This builds the statement once per database
alias and converts each value the way the field itself would
(``get_db_prep_save``), so every backend stores exactly what ``save()`` stores.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import connections

from lambdactr_django.models import HeaderHit

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Field

_statements: dict[str, tuple[str, list[Field[Any, Any]]]] = {}


def _statement(alias: str) -> tuple[str, list[Field[Any, Any]]]:
    cached = _statements.get(alias)
    if cached is None:
        quote = connections[alias].ops.quote_name
        fields = list(HeaderHit._meta.concrete_fields)
        columns = ", ".join(quote(field.column) for field in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        # Names from the model, quoted by the backend; values go as parameters.
        table = quote(HeaderHit._meta.db_table)
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
        cached = _statements[alias] = (sql, fields)
    return cached


def insert_row(row: HeaderHit, alias: str, *, before: str = "") -> None:
    """INSERT ``row`` (a new, unsaved instance with its key set) on ``alias``.

    ``before``, a statement without parameters, is sent with the INSERT in the
    same round trip; only where ``sends_several_statements`` says so.
    """
    sql, fields = _statement(alias)
    connection = connections[alias]
    params = [field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(f"{before}; {sql}" if before else sql, params)


def sends_several_statements(connection: BaseDatabaseWrapper) -> bool:
    """True when one ``execute()`` may hold several statements: PostgreSQL with
    Django's default client-side binding, which sends them as one simple query."""
    # Server-side binding (OPTIONS "server_side_binding", psycopg 3) sends one
    # statement per execute(), as the extended protocol requires.
    return (
        connection.vendor == "postgresql"
        and connection.settings_dict["OPTIONS"].get("server_side_binding") is not True
    )
