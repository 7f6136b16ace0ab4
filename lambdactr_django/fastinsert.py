"""Store a hit with one INSERT, without building a model instance.

A prototype measured by bench/run (docs/performance-profile.md); nothing
calls it yet. ``HeaderHit.objects.create()`` spends most of its time in
Django's machinery rather than in the database: model ``__init__`` and its
signals, ``save()`` and its signals, and compiling the INSERT afresh on every
call. This builds the statement once per database alias and converts each
value the way the field itself would (``get_db_prep_save``), so every backend
stores exactly what ``create()`` stores.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.db import connections, router
from django.utils import timezone

from lambdactr_django.models import HeaderHit

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Field

    from lambdactr_django.capture import Hit

_COLUMNS = ("id", "created_at", "site", "path", "referrer", "user_agent", "verified", "headers")
_statements: dict[str, tuple[str, list[Field[Any, Any]]]] = {}


def _statement(connection: BaseDatabaseWrapper) -> tuple[str, list[Field[Any, Any]]]:
    cached = _statements.get(connection.alias)
    if cached is None:
        quote = connection.ops.quote_name
        by_name = {field.name: field for field in HeaderHit._meta.concrete_fields}
        fields = [by_name[name] for name in _COLUMNS]
        columns = ", ".join(quote(field.get_attname_column()[1] or field.name) for field in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        # Names from the model, quoted by the backend; values go as parameters.
        table = quote(HeaderHit._meta.db_table)
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
        cached = _statements[connection.alias] = (sql, fields)
    return cached


def insert_hit(hit: Hit) -> None:
    """Store ``hit`` as one new row under a fresh random key."""
    connection = connections[router.db_for_write(HeaderHit)]
    sql, fields = _statement(connection)
    values = (
        uuid.uuid4(),
        timezone.now(),
        hit.site,
        hit.path,
        hit.referrer,
        hit.user_agent,
        hit.verified,
        hit.headers,
    )
    params = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(fields, values, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
