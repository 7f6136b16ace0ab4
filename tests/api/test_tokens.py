"""API tokens: made in the admin or by lambdactr_token, kept as a hash, revoked at once."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client

from lambdactr_django.api import tokens
from lambdactr_django.models import ApiToken
from tests.api.conftest import URL, bearer, reader

pytestmark = pytest.mark.django_db
ADD = "/admin/lambdactr_django/apitoken/add/"
LIST = "/admin/lambdactr_django/apitoken/"


def _stored() -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiToken._meta.db_table}")
        return repr(cursor.fetchall())


def test_only_a_hash_is_stored(token_user: User) -> None:
    token, secret = tokens.create(token_user, "cron")

    assert secret.startswith("lctr_")
    assert len(secret) >= len("lctr_") + 43  # 32 random bytes, URL-safe base64
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(token.prefix)
    assert secret not in _stored()
    assert secret[len(token.prefix) :] not in _stored()


def test_two_tokens_differ(token_user: User) -> None:
    assert tokens.create(token_user)[1] != tokens.create(token_user)[1]


def _command(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("lambdactr_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_makes_a_token_that_reads(client: Client, token_user: User) -> None:
    out, err = _command("create", "reader", "--name", "Grafana")
    secret = out.strip()

    assert client.get(URL, **bearer(secret)).status_code == 200
    assert "shown only now" in err
    assert ApiToken.objects.get().name == "Grafana"


def test_the_command_warns_of_a_user_who_may_not_read(db: None) -> None:
    reader("plain", staff=False, allowed=False)
    _, err = _command("create", "plain")
    assert "may not read" in err


def test_the_command_lists_without_secrets(token_user: User) -> None:
    token, secret = tokens.create(token_user, "cron")
    out, _ = _command("list", "reader")

    assert token.prefix in out
    assert "cron" in out
    assert "never used" in out
    assert "live" in out
    assert secret not in out


def test_the_command_revokes_one_or_all(client: Client, token_user: User) -> None:
    first, first_secret = tokens.create(token_user)
    _, second_secret = tokens.create(token_user)

    out, _ = _command("revoke", "reader", "--prefix", first.prefix)
    assert out.strip() == "Revoked 1 token of reader."
    assert client.get(URL, **bearer(first_secret)).status_code == 401
    assert client.get(URL, **bearer(second_secret)).status_code == 200

    out, _ = _command("revoke", "reader")
    assert out.strip() == "Revoked 1 token of reader."
    assert client.get(URL, **bearer(second_secret)).status_code == 401
    assert "revoked" in _command("list", "reader")[0]


def test_the_command_refuses_unknown_users_and_prefixes(token_user: User) -> None:
    with pytest.raises(CommandError, match="No user"):
        _command("create", "nobody")
    with pytest.raises(CommandError, match="no token starting"):
        _command("revoke", "reader", "--prefix", "lctr_zzzz")


def test_the_admin_shows_a_new_token_once(admin_client: Client) -> None:
    user = reader()
    answer = admin_client.post(ADD, {"user": user.pk, "name": "dashboard"}, follow=True)

    token = ApiToken.objects.get()
    shown = [str(m) for m in answer.context["messages"]]
    assert len(shown) == 2
    secret = shown[0].split("<code>")[1].split("</code>")[0]
    assert tokens.digest(secret) == token.digest
    assert token.user == user
    assert secret not in admin_client.get(LIST).content.decode()
    assert secret not in admin_client.get(f"{LIST}{token.pk}/change/").content.decode()


def test_staff_make_tokens_only_for_themselves(client: Client) -> None:
    staff = reader("staff")
    for codename in ("add_apitoken", "view_apitoken", "change_apitoken"):
        staff.user_permissions.add(Permission.objects.get(codename=codename))
    victim = User.objects.create_superuser("boss", password="pw")
    tokens.create(victim, "the boss's")
    client.force_login(staff)

    client.post(ADD, {"user": victim.pk, "name": "mine"})

    assert ApiToken.objects.get(name="mine").user == staff
    listed = client.get(LIST).content.decode()
    assert "mine" in listed
    assert "the boss&#x27;s" not in listed


def test_the_admin_revokes_at_once(admin_client: Client, client: Client) -> None:
    token, secret = tokens.create(reader())
    assert client.get(URL, **bearer(secret)).status_code == 200

    admin_client.post(LIST, {"action": "revoke", "_selected_action": [str(token.pk)]}, follow=True)

    assert ApiToken.objects.get().revoked
    assert client.get(URL, **bearer(secret)).status_code == 401


def test_the_list_filters_live_and_revoked_tokens(admin_client: Client) -> None:
    user = reader()
    tokens.create(user, "still-live")
    revoked, _ = tokens.create(user, "gone")
    tokens.revoke(ApiToken.objects.filter(pk=revoked.pk))

    live = admin_client.get(LIST + "?state=live").content.decode()
    gone = admin_client.get(LIST + "?state=revoked").content.decode()
    assert "still-live" in live
    assert "gone" not in live
    assert "gone" in gone
    assert "still-live" not in gone
