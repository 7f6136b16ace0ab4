from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import connection, connections
from django.test import Client

from lambdactr_django import quota
from lambdactr_django.models import HeaderHit
from lambdactr_django.store import replay
from tests import traffic


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # The rate limit counts in the cache; one test's hits must not limit the next.
    cache.clear()


class _MidMinuteClock:
    """Real time, moved to start half a window in: the readers' limit counts per
    wall-clock minute, and a test begun at :59 would see two windows."""

    def __init__(self) -> None:
        now = time.time()
        window = quota.WINDOW_SECONDS
        self.offset = (now // window) * window + window / 2 - now

    def time(self) -> float:
        return time.time() + self.offset


@pytest.fixture(autouse=True)
def _readers_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quota, "time", _MidMinuteClock())


@pytest.fixture(autouse=True)
def _replay_in_the_test_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    # The beacon replays the spool in a thread of its own, on a connection of its
    # own: outside the test's transaction, so what it stored would outlive the
    # test. Here it replays in the test's thread; tests marked
    # background_replay see the thread. A MonkeyPatch of its own: a test's
    # monkeypatch.undo() must not undo this.
    if request.node.get_closest_marker("background_replay") is not None:
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(replay, "_start_background", replay.replay_logged)
        yield


@pytest.fixture(autouse=True)
def _audit_stored_rows(request: pytest.FixtureRequest) -> Iterator[None]:
    # Scan what each database test stored before its transaction is rolled back.
    uses_db = "_django_db_helper" in request.fixturenames
    if request.node.get_closest_marker("django_db") is None and not uses_db:
        yield
        return
    request.getfixturevalue("_django_db_helper")
    yield
    from lambdactr_django.conf import conf

    if conf.STORE_CLIENT_IP or request.node.get_closest_marker("stores_client_ip"):
        # The site owner opted in to storing addresses: not a leak.
        return
    for alias in _test_databases(request):
        traffic.scan_rows(request.node.nodeid, HeaderHit.objects.using(alias).values())


def _test_databases(request: pytest.FixtureRequest) -> list[str]:
    # Only the aliases the test may use: the others raise on access.
    marker = request.node.get_closest_marker("django_db")
    databases = marker.kwargs.get("databases") if marker is not None else None
    if databases is None:
        return ["default"]
    if databases == "__all__":
        return list(connections)
    return list(databases)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The privacy audit reads what every other test stored: it runs last.
    items.sort(key=lambda item: item.nodeid.startswith("tests/test_privacy_audit.py"))


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
