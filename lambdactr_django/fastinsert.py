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


def insert_row(row: HeaderHit, alias: str) -> None:
    """INSERT ``row`` (a new, unsaved instance with its key set) on ``alias``."""
    sql, fields = _statement(alias)
    connection = connections[alias]
    params = [field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
