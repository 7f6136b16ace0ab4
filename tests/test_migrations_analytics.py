from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration() -> None:
    out = io.StringIO()
    try:
        call_command("makemigrations", "lambdactr_django", "--check", "--dry-run", stdout=out)
    except SystemExit:
        pytest.fail(f"A migration is missing:\n{out.getvalue()}")
