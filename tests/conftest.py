from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client

from lambdactr_django.models import HeaderHit


@pytest.fixture
def stored_text(db: None) -> Callable[[], str]:
    """Every column of every stored hit, as the database hands it back, for scanning."""

    def read() -> str:
        table = connection.ops.quote_name(HeaderHit._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {table}")
            return repr(cursor.fetchall())

    return read


@pytest.fixture
def viewer_client(db: None, django_user_model: type) -> Client:
    """A staff member allowed to look at page views and nothing else."""
    user = django_user_model.objects.create_user("viewer", password="not-used", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(
            codename="view_headerhit", content_type__app_label="lambdactr_django"
        )
    )
    client = Client()
    client.force_login(user)
    return client
