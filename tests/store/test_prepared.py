from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test import override_settings

from lambdactr_django.models import HeaderHit
from lambdactr_django.store import database, durable, prepared, replay, rows
from tests.hits import AWKWARD_HIT

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's PREPARE"),
    pytest.mark.django_db(transaction=True),
]

HIT = AWKWARD_HIT
TABLE = HeaderHit._meta.db_table


def statement() -> tuple[object, int] | None:
    # This session's: when it was prepared, and how often it has run.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT prepare_time, generic_plans + custom_plans FROM pg_prepared_statements "
            "WHERE name = %s",
            [prepared.NAME],
        )
        found = cursor.fetchone()
    return None if found is None else (found[0], found[1])


def raw(sql: str) -> None:
    # Straight on the session, as a pooler or another library would.
    connection.connection.execute(sql)


@pytest.fixture
def fresh() -> Iterator[None]:
    connection.close()
    yield
    connection.close()


def test_prepared_once_per_connection(fresh: None) -> None:
    for _ in range(3):
        database.insert(rows.new_values(HIT))

    found = statement()
    assert found is not None
    prepared_at, runs = found
    assert runs == 3
    database.insert(rows.new_values(HIT))
    assert statement() == (prepared_at, 4)
    assert HeaderHit.objects.count() == 4


def test_prepared_again_after_discard_all(fresh: None) -> None:
    database.insert(rows.new_values(HIT))
    # What PgBouncer's server_reset_query does between clients.
    raw("DISCARD ALL")
    assert statement() is None

    database.insert(rows.new_values(HIT))
    database.insert(rows.new_values(HIT))

    assert HeaderHit.objects.count() == 3
    found = statement()
    assert found is not None
    assert found[1] == 2


def test_prepared_again_on_a_new_connection(fresh: None) -> None:
    database.insert(rows.new_values(HIT))
    first = connection.connection
    connection.close()

    database.insert(rows.new_values(HIT))

    assert connection.connection is not first
    found = statement()
    assert found is not None
    assert found[1] == 1
    assert HeaderHit.objects.count() == 2


def test_a_session_that_has_it_already_is_believed(fresh: None) -> None:
    # A session whose statement this process does not know of: a pooled
    # server connection left by another client, say.
    database.insert(rows.new_values(HIT))
    connection._lambdactr_prepared = None

    database.insert(rows.new_values(HIT))

    assert HeaderHit.objects.count() == 2
    found = statement()
    assert found is not None
    assert found[1] == 2


class SessionsThatChange:
    """A kept cursor behind a pooler that hands each query another session."""

    def __init__(self, cursor: object, codes: list[str]) -> None:
        self.cursor, self.codes, self.sent = cursor, codes, []

    def execute(self, query: str, params: list[object]) -> object:
        self.sent.append(query.split("; ")[1].split(" ", 1)[0])
        if "EXECUTE" in query and self.codes:
            error = Exception("the session has changed")
            error.sqlstate = self.codes.pop(0)  # type: ignore[attr-defined]
            raise error
        return self.cursor.execute(query, params)  # type: ignore[attr-defined]


def test_a_pooler_that_changes_sessions_gets_the_insert_as_text(fresh: None) -> None:
    database.insert(rows.new_values(HIT))
    kept = connection._lambdactr_cursor  # type: ignore[attr-defined]
    flaky = SessionsThatChange(kept[1], [prepared.MISSING, prepared.EXISTS])
    connection._lambdactr_cursor = (kept[0], flaky)  # type: ignore[attr-defined]

    database.insert(rows.new_values(HIT))

    # Lacking it, then having it: neither believed a third time.
    assert flaky.sent == ["EXECUTE", "PREPARE", "INSERT"]
    assert HeaderHit.objects.count() == 2


def test_inside_a_transaction_the_insert_goes_as_text(fresh: None) -> None:
    # A failed EXECUTE would break the caller's transaction: none is tried.
    with transaction.atomic():
        database.insert_rows([rows.new_values(HIT)], connection.alias, before="SELECT 1")
        assert statement() is None
    assert HeaderHit.objects.count() == 1


def test_behind_a_transaction_pooler_the_insert_goes_as_text(fresh: None) -> None:
    settings_dict = connection.settings_dict
    settings_dict["DISABLE_SERVER_SIDE_CURSORS"] = True
    try:
        database.insert(rows.new_values(HIT))
    finally:
        settings_dict["DISABLE_SERVER_SIDE_CURSORS"] = False
    assert statement() is None
    assert HeaderHit.objects.count() == 1


def test_the_prepared_row_is_what_save_stores(fresh: None, stored_text) -> None:
    fast = rows.new_values(HIT)
    database.insert(fast)
    assert statement() is not None
    slow = rows.new_row(HIT)
    slow.save(force_insert=True)

    stored = {row.pk: row for row in HeaderHit.objects.all()}
    columns = [field.attname for field in HeaderHit._meta.concrete_fields if field.attname != "id"]
    assert [getattr(stored[fast["id"]], column) for column in columns] == [
        fast[column] for column in columns
    ]
    as_saved = {column: getattr(stored[slow.pk], column) for column in columns}
    assert {c: getattr(stored[fast["id"]], c) for c in columns if c != "created_at"} == {
        c: v for c, v in as_saved.items() if c != "created_at"
    }
    # And the text in the table, key and time aside.
    table = connection.ops.quote_name(TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} ORDER BY id")
        fast_row, slow_row = sorted(cursor.fetchall(), key=lambda row: row[0] != fast["id"])

    def shape(row: tuple[object, ...]) -> str:
        text = re.sub(r"UUID\('[0-9a-f-]{36}'\)", "KEY", repr(row))
        return re.sub(r"datetime\.datetime\([^)]*\)\)?", "WHEN", text)

    assert shape(fast_row) == shape(slow_row)


@contextlib.contextmanager
def slow_inserts() -> Iterator[None]:
    # Every INSERT into the hits takes half a second.
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION lambdactr_test_sleep() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN PERFORM pg_sleep(0.5); RETURN NEW; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER lambdactr_test_sleep BEFORE INSERT ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION lambdactr_test_sleep()"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER IF EXISTS lambdactr_test_sleep ON {TABLE}")
            cursor.execute("DROP FUNCTION IF EXISTS lambdactr_test_sleep()")


@pytest.mark.parametrize("warm", [False, True], ids=["preparing", "prepared"])
def test_the_statement_timeout_still_applies_and_the_hit_is_spooled(
    warm: bool, tmp_path: Path
) -> None:
    spool_dir = tmp_path / "spool"
    with override_settings(LAMBDACTR_SPOOL_DIR=str(spool_dir), LAMBDACTR_DB_TIMEOUT=0.1):
        replay.check_soon()
        connection.close()
        if warm:
            database.insert(rows.new_values(HIT))
            HeaderHit.objects.all().delete()
        with slow_inserts():
            durable.save(HIT)
            # SET LOCAL: the session's own timeout is untouched afterwards.
            with connection.cursor() as cursor:
                cursor.execute("SHOW statement_timeout")
                assert cursor.fetchone()[0] == "0"

        assert HeaderHit.objects.count() == 0
        spooled = [
            json.loads(line)["id"]
            for path in spool_dir.glob("*.jsonl")
            for line in path.read_text().splitlines()
            if line.strip()
        ]
        assert len(spooled) == 1
        # The next hit, prepared already or not, stores itself and the spooled one.
        replay.check_soon()
        durable.save(HIT)
        assert HeaderHit.objects.count() == 2
        assert str(HeaderHit.objects.filter(pk=spooled[0]).get().pk) == spooled[0]
    connection.close()
