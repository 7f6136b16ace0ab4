"""The beacon's insert on a connection kept from an earlier request: no health check, one
round trip, and a connection that died in between is replaced without losing the hit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import connection, connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from lambdactr_django.hits import Hit
from lambdactr_django.models import HeaderHit
from lambdactr_django.store import durable
from tests import server

pytestmark = [
    # Autocommit, as the beacon runs in production; a test transaction would
    # hide both the kept connection and the commit.
    pytest.mark.django_db(transaction=True),
    # The tests' in-memory SQLite database keeps its one connection whatever the
    # settings, and there is no server to end it.
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="a connection that can be kept and ended"
    ),
]


def make_hit(path: str) -> Hit:
    return Hit(
        site="blog.example",
        path=path,
        referrer="",
        user_agent="Mozilla/5.0 test",
        verified=True,
        headers={"User-Agent": "Mozilla/5.0 test"},
    )


def keep_connections(monkeypatch: pytest.MonkeyPatch, health_checks: bool) -> None:
    # As a production site sets them (CONN_MAX_AGE > 0). Read when the
    # connection opens: close it first.
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", health_checks)


@pytest.fixture(params=[True, False], ids=["health-checks", "no-health-checks"])
def health_checks(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[bool]:
    keep_connections(monkeypatch, request.param)
    yield request.param
    connection.close()


@pytest.fixture
def health_check_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    # Django's health check is a call to is_usable() (a SELECT 1 on PostgreSQL).
    calls: list[str] = []
    wrapper = connections["default"]
    original = wrapper.is_usable

    def is_usable() -> bool:
        calls.append(wrapper.alias)
        return original()

    monkeypatch.setattr(wrapper, "is_usable", is_usable)
    return calls


def next_request() -> None:
    # What Django does for each connection when a request starts.
    connection.close_if_unusable_or_obsolete()


def database_url() -> str:
    return f"{server.ADMIN_DATABASE_URL.rsplit('/', 1)[0]}/{connection.settings_dict['NAME']}"


def spooled(directory: Path) -> int:
    return sum(
        1 for path in directory.glob("*.jsonl") for line in path.read_text().splitlines() if line
    )


def test_a_kept_connection_is_not_health_checked(
    spool_dir: Path, health_checks: bool, health_check_calls: list[str]
) -> None:
    durable.save(make_hit("/first/"))
    next_request()
    assert connection.connection is not None

    with CaptureQueriesContext(connection) as queries:
        durable.save(make_hit("/second/"))

    assert health_check_calls == []
    assert len(queries) == 1
    assert sorted(HeaderHit.objects.values_list("path", flat=True)) == ["/first/", "/second/"]
    assert spooled(spool_dir) == 0


def test_other_queries_of_the_request_are_still_health_checked(
    spool_dir: Path, health_check_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    keep_connections(monkeypatch, health_checks=True)
    durable.save(make_hit("/first/"))
    next_request()

    HeaderHit.objects.count()

    assert health_check_calls == ["default"]
    connection.close()


def test_a_connection_ended_between_requests_is_replaced_and_the_hit_stored(
    spool_dir: Path, health_checks: bool
) -> None:
    durable.save(make_hit("/before/"))
    pid = connection.connection.info.backend_pid
    # What a server restart or an idle-connection killer does to a kept connection.
    with psycopg.connect(server.ADMIN_DATABASE_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    next_request()

    durable.save(make_hit("/after/"))

    assert connection.connection.info.backend_pid != pid
    assert sorted(HeaderHit.objects.values_list("path", flat=True)) == ["/after/", "/before/"]
    assert spooled(spool_dir) == 0


def test_a_timeout_on_a_live_connection_is_spooled_without_a_second_wait(
    spool_dir: Path, health_checks: bool, health_check_calls: list[str]
) -> None:
    durable.save(make_hit("/before/"))
    next_request()
    # Over the statement timeout: the database is slow, not the connection dead.
    # Retrying would only double the wait.
    with override_settings(LAMBDACTR_DB_TIMEOUT=0.2), psycopg.connect(database_url()) as locker:
        locker.execute("LOCK TABLE lambdactr_django_headerhit IN ACCESS EXCLUSIVE MODE")
        with CaptureQueriesContext(connection) as queries:
            durable.save(make_hit("/locked/"))

    assert [q["sql"].split(";")[0] for q in queries] == ["SET LOCAL statement_timeout = 200"]
    assert health_check_calls == ["default"]
    assert list(HeaderHit.objects.values_list("path", flat=True)) == ["/before/"]
    assert spooled(spool_dir) == 1


def test_with_server_side_binding_the_timeout_has_a_transaction_of_its_own(
    spool_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The extended protocol takes one statement at a time.
    connection.close()
    options = {**connection.settings_dict["OPTIONS"], "server_side_binding": True}
    monkeypatch.setitem(connection.settings_dict, "OPTIONS", options)
    try:
        with CaptureQueriesContext(connection) as queries:
            durable.save(make_hit("/bound/"))
    finally:
        connection.close()

    assert [q["sql"].split(" ", 1)[0] for q in queries] == ["BEGIN", "SELECT", "INSERT", "COMMIT"]
    assert "statement_timeout" in queries[1]["sql"]
    assert list(HeaderHit.objects.values_list("path", flat=True)) == ["/bound/"]
