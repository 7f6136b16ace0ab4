"""The beacon on an INSERT-only PostgreSQL role, as README's "Scaling" sets it up."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import ProgrammingError, connections
from django.test import Client, override_settings

from lambdactr_django.hits import Hit
from lambdactr_django.models import HeaderHit
from lambdactr_django.store import buffer, consumer, replay, rows, spool
from tests import server, traffic
from tests.hits import STYLESHEET_HEADERS

pytestmark = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="roles and grants are PostgreSQL's; run with DATABASE_URL=postgres://...",
)

OWNER = "lambdactr_owner"
BEACON = "lambdactr_beacon"
ROUTER = "lambdactr_django.routers.CounterRouter"


@contextlib.contextmanager
def database_alias(alias: str, url: str) -> Iterator[None]:
    # An alias added for one test: DATABASES is read once, at the first query.
    parts = urlsplit(url)
    config = {
        **connections["default"].settings_dict,
        "NAME": parts.path.lstrip("/"),
        "USER": parts.username or "",
        "PASSWORD": parts.password or "",
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
    }
    connections.settings[alias] = config
    try:
        yield
    finally:
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]


@pytest.fixture
def insert_only(django_db_blocker: object) -> Iterator[tuple[str, str]]:
    """A scratch database with the counter's table, and an INSERT-only role on it."""
    role = f"lambdactr_beacon_{os.getpid()}"
    with server.scratch_database("lambdactr_least_privilege") as url:
        base, name = url.rsplit("/", 1)
        scheme, host = base.split("://", 1)
        beacon_url = f"{scheme}://{role}@{host.split('@', 1)[-1]}/{name}"
        try:
            with (
                django_db_blocker.unblock(),  # type: ignore[attr-defined]
                database_alias(OWNER, url),
                database_alias(BEACON, beacon_url),
                override_settings(LAMBDACTR_DATABASE=OWNER, DATABASE_ROUTERS=[ROUTER]),
            ):
                call_command("migrate", "lambdactr_django", database=OWNER, verbosity=0)
                with connections[OWNER].cursor() as cursor:
                    # The statements README gives.
                    cursor.execute(f'CREATE ROLE "{role}" LOGIN')
                    cursor.execute(f'GRANT CONNECT ON DATABASE "{name}" TO "{role}"')
                    cursor.execute(f'GRANT USAGE ON SCHEMA public TO "{role}"')
                    cursor.execute(f'GRANT INSERT ON lambdactr_django_headerhit TO "{role}"')
                yield url, role
        finally:
            with psycopg.connect(server.ADMIN_DATABASE_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_the_beacon_stores_through_an_insert_only_role(
    insert_only: tuple[str, str],
    client: Client,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
) -> None:
    url, _ = insert_only
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in STYLESHEET_HEADERS.items()}
    headers["HTTP_REFERER"] = "http://blog.example/p/"
    with (
        override_settings(LAMBDACTR_BEACON_DATABASE=BEACON, LAMBDACTR_SPOOL_DIR=str(tmp_path)),
        caplog.at_level(logging.DEBUG, logger="lambdactr_django"),
    ):
        replay.check_soon()
        response = client.get("/ctr/s.css", **headers)
        assert response.status_code == 200
        assert not caplog.records  # stored, not spooled or lost
        # The admin, the reports and the commands read through the router: the owner.
        stored = HeaderHit.objects.get()
        assert stored.path == "/p/"

        # The beacon's role can insert, and nothing else.
        with pytest.raises(ProgrammingError, match="permission denied"):
            HeaderHit.objects.using(BEACON).count()
        with (
            pytest.raises(ProgrammingError, match="permission denied"),
            connections[BEACON].cursor() as cursor,
        ):
            cursor.execute("DELETE FROM lambdactr_django_headerhit")

        # A replay through the same role stores each hit once and counts right.
        again = HeaderHit.objects.get()
        spool.append(
            [
                again,
                rows.new_row(
                    Hit(site="blog.example", path="/q/", referrer="", user_agent="", verified=True)
                ),
            ]
        )
        assert replay.replay() == replay.ReplayResult(stored=1, already_stored=1)
        assert sorted(HeaderHit.objects.values_list("path", flat=True)) == ["/p/", "/q/"]

    traffic.scan_rows(request.node.nodeid, server.stored_rows(url))


def test_a_buffered_flush_copies_through_an_insert_only_role(
    insert_only: tuple[str, str], client: Client, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url, _ = insert_only
    with override_settings(
        LAMBDACTR_BEACON_DATABASE=BEACON,
        LAMBDACTR_SPOOL_DIR=str(tmp_path),
        LAMBDACTR_BUFFER_SECONDS=3600,
    ):
        try:
            for path in ("/a/", "/b/"):
                response = client.get("/ctr/s.css", HTTP_REFERER=f"http://blog.example{path}")
                assert response.status_code == 200
            assert buffer.flush() == 2
        finally:
            buffer.stop()
        assert sorted(HeaderHit.objects.values_list("path", flat=True)) == ["/a/", "/b/"]
        assert not spool.has_spooled_hits()

    traffic.scan_rows(request.node.nodeid, server.stored_rows(url))


def test_the_consumer_stores_through_an_insert_only_role(
    insert_only: tuple[str, str], broker: object, client: Client, request: pytest.FixtureRequest
) -> None:
    url, _ = insert_only
    with override_settings(LAMBDACTR_BEACON_DATABASE=BEACON):
        for path in ("/a/", "/b/"):
            response = client.get("/ctr/s.css", HTTP_REFERER=f"http://blog.example{path}")
            assert response.status_code == 200
        reader = consumer.Consumer(name="first")
        reader.ensure_group()
        taken = reader.take(block=False)
        # Stored, then not acknowledged: the next consumer gets the batch again.
        reader._store(taken)
        with override_settings(LAMBDACTR_INGEST_CLAIM_SECONDS=0.001):
            totals = consumer.Consumer(name="second").run(drain=True)
        assert (totals.claimed, totals.stored, totals.already_stored) == (2, 0, 2)
        assert sorted(HeaderHit.objects.values_list("path", flat=True)) == ["/a/", "/b/"]

    traffic.scan_rows(request.node.nodeid, server.stored_rows(url))
