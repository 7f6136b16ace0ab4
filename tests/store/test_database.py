from __future__ import annotations

import re

import pytest
from django.db import connection

from lambdactr_django.models import HeaderHit
from lambdactr_django.store import rows
from lambdactr_django.store.database import insert_rows
from tests.hits import AWKWARD_HIT

HIT = AWKWARD_HIT


@pytest.mark.django_db
@pytest.mark.parametrize("watched", [True, False], ids=["django-cursor", "kept-cursor"])
def test_one_statement_stores_what_save_stores(watched: bool, django_assert_num_queries):
    # Watched (queries logged, as assertNumQueries does): through Django's
    # cursor; else through the cursor the store keeps. The same row either way.
    fast = rows.new_values(HIT)
    if watched:
        with django_assert_num_queries(1):
            insert_rows([fast], connection.alias)
    else:
        assert not connection.queries_logged
        insert_rows([fast], connection.alias)
    slow = rows.new_row(HIT)
    slow.save(force_insert=True)

    stored = {row.pk: row for row in HeaderHit.objects.all()}
    columns = [field.attname for field in HeaderHit._meta.concrete_fields if field.attname != "id"]
    as_saved = [getattr(stored[slow.pk], column) for column in columns]
    assert [getattr(stored[fast["id"]], column) for column in columns] == [
        fast[column] for column in columns
    ]
    assert stored[fast["id"]].created_at == fast["created_at"]
    assert [getattr(stored[fast["id"]], c) for c in columns if c != "created_at"] == [
        v for c, v in zip(columns, as_saved, strict=True) if c != "created_at"
    ]


@pytest.mark.django_db
def test_raw_columns_match_save(stored_text):
    # The bytes in the database, not just the model's reading of them: a key
    # stored as text where Django stores hex, say, would differ here.
    insert_rows([rows.new_values(HIT)], connection.alias)
    fast = stored_text()
    HeaderHit.objects.all().delete()
    rows.new_row(HIT).save(force_insert=True)
    slow = stored_text()

    def shape(text: str) -> str:
        # Keys and timestamps differ by nature; compare everything else.
        text = re.sub(r"UUID\('[0-9a-f-]{36}'\)|'[0-9a-f]{32}'", "KEY", text)
        return re.sub(r"datetime\.datetime\([^)]*\)\)?|'\d{4}-\d\d-\d\d[ T][\d:.]+'", "WHEN", text)

    assert shape(fast) == shape(slow)


@pytest.mark.django_db
def test_an_execute_wrapper_sees_the_insert() -> None:
    # Instrumentation (Sentry, the debug toolbar) hooks Django's cursor: the
    # insert goes through it whenever something does.
    seen: list[str] = []

    def wrapper(execute, sql, params, many, context):
        seen.append(sql.split(" ", 1)[0])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        insert_rows([rows.new_values(HIT)], connection.alias)

    assert seen == ["INSERT"]
    assert HeaderHit.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_gets_a_cursor_of_its_own() -> None:
    insert_rows([rows.new_values(HIT)], connection.alias)
    # A restart, CONN_MAX_AGE: the kept cursor belongs to the closed connection.
    connection.close()
    insert_rows([rows.new_values(HIT)], connection.alias)

    assert HeaderHit.objects.count() == 2
