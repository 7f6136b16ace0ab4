from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_missing_migrations() -> None:
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit:
        pytest.fail(f"A model change has no migration:\n{out.getvalue()}")


# transaction=True: SQLite's schema editor cannot run inside a test's transaction.
@pytest.mark.django_db(transaction=True)
def test_the_switch_to_uuid7_keys_leaves_the_table_alone() -> None:
    # A default made in Python needs no SQL; SQLite would otherwise copy
    # every stored hit into a new table.
    out = StringIO()
    call_command("sqlmigrate", "lambdactr_django", "0003", stdout=out)

    statements = [
        line for line in out.getvalue().splitlines() if line and not line.startswith("--")
    ]
    assert statements in ([], ["BEGIN;", "COMMIT;"])


@pytest.mark.django_db(transaction=True)
def test_the_log_resource_leaves_the_table_alone() -> None:
    # A new choice and a help text: no SQL, on either database.
    out = StringIO()
    call_command("sqlmigrate", "lambdactr_django", "0012", stdout=out)

    statements = [
        line for line in out.getvalue().splitlines() if line and not line.startswith("--")
    ]
    assert statements in ([], ["BEGIN;", "COMMIT;"])
