from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission, User

from lambdactr_django.api import tokens

URL = "/ctr/api/statistics.json"


def reader(username: str = "reader", *, staff: bool = True, allowed: bool = True) -> User:
    user = User.objects.create_user(username, password="pw", is_staff=staff)
    if allowed:
        user.user_permissions.add(Permission.objects.get(codename="view_headerhit"))
    return user


@pytest.fixture
def token_user(db: None) -> User:
    return reader()


@pytest.fixture
def secret(token_user: User) -> str:
    return tokens.create(token_user, "tests")[1]


def bearer(secret: str) -> dict[str, Any]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
