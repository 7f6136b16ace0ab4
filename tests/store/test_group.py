"""Group commit: the durable hits of one process in flight at once share a transaction,
and a group that fails leaves each hit the outcome it would have had alone."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import IntegrityError, connection, connections
from django.test import override_settings

from lambdactr_django.models import HeaderHit
from lambdactr_django.store import database, durable, group, replay, rows
from tests.hits import AWKWARD_HIT
from tests.store.test_spool_connection import spooled

pytestmark = pytest.mark.django_db(transaction=True)

# Bounds of every wait here: a group that never forms fails the test, not CI.
DEADLINE = 10.0


def values(path: str) -> rows.Record:
    return rows.new_values(dataclasses.replace(AWKWARD_HIT, path=path))


class Held:
    """The first hit's single-row insert held until released: the hits that come
    meanwhile queue behind it, as they do behind a slow commit."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.groups: list[int] = []
        insert_group = database.insert_group

        def held(group: list[rows.Record], connection: Any = None) -> None:
            self.groups.append(len(group))
            if not self.entered.is_set():
                self.entered.set()
                assert self.release.wait(DEADLINE)
            insert_group(group, connection)

        monkeypatch.setattr(database, "insert_group", held)


def in_threads(
    calls: list[Callable[[], None]],
    held: Held,
    *,
    before_release: Callable[[], None] = lambda: None,
) -> list[BaseException | None]:
    """Run ``calls`` each in a thread of its own, the first alone until the others
    are all queued behind it; what each raised."""
    outcomes: list[BaseException | None] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            calls[index]()
        except BaseException as error:
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    threads[0].start()
    assert held.entered.wait(DEADLINE)
    for thread in threads[1:]:
        thread.start()
    deadline = time.monotonic() + DEADLINE
    while len(group._queue) < len(calls) and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(group._queue) == len(calls)
    before_release()
    held.release.set()
    for thread in threads:
        thread.join(DEADLINE)
        assert not thread.is_alive()
    assert not group._queue
    return outcomes


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Held:
    return Held(monkeypatch)


def test_hits_that_come_during_a_commit_are_committed_together(held: Held) -> None:
    hits = [values(f"/page/{i}/") for i in range(8)]

    outcomes = in_threads([lambda v=v: group.insert(v) for v in hits], held)

    assert outcomes == [None] * 8
    # The first alone, the seven that queued behind it in one group.
    assert held.groups == [1, 7]
    stored = {row.pk: row for row in HeaderHit.objects.all()}
    assert set(stored) == {v["id"] for v in hits}
    for v in hits:
        row = stored[v["id"]]
        assert (row.path, row.headers, row.created_at) == (v["path"], v["headers"], v["created_at"])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's xmin")
def test_a_group_is_one_transaction(held: Held) -> None:
    hits = [values(f"/page/{i}/") for i in range(5)]

    in_threads([lambda v=v: group.insert(v) for v in hits], held)

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, xmin::text FROM {HeaderHit._meta.db_table}")
        transactions = {key: xmin for key, xmin in cursor.fetchall()}
    first = transactions.pop(hits[0]["id"])
    assert len(set(transactions.values())) == 1
    assert first not in transactions.values()


def test_a_row_that_cannot_be_stored_fails_alone(held: Held) -> None:
    hits = [values(f"/page/{i}/") for i in range(4)]
    # Its key is the first hit's: the group's INSERT fails on it.
    again = {**values("/again/"), "id": hits[0]["id"]}

    outcomes = in_threads([lambda v=v: group.insert(v) for v in [*hits, again]], held)

    assert outcomes[:4] == [None] * 4
    assert isinstance(outcomes[4], IntegrityError)
    # The group of the four behind the first failed: each of them again alone.
    assert held.groups == [1, 4, 1, 1, 1, 1]
    assert set(HeaderHit.objects.values_list("pk", flat=True)) == {v["id"] for v in hits}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a lock that times out")
def test_a_group_that_times_out_is_spooled_and_replayed_once(held: Held, spool_dir: Path) -> None:
    hits = [dataclasses.replace(AWKWARD_HIT, path=f"/p/{i}/") for i in range(5)]
    settings = connection.settings_dict
    url = (
        f"postgresql://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    )
    with override_settings(LAMBDACTR_DB_TIMEOUT=0.2), psycopg.connect(url) as locker:

        def lock() -> None:
            locker.execute(f"LOCK TABLE {HeaderHit._meta.db_table} IN ACCESS EXCLUSIVE MODE")

        outcomes = in_threads(
            [lambda h=h: durable.save(h) for h in hits], held, before_release=lock
        )
        assert outcomes == [None] * 5
        # Not tried again alone: each of the group's hits spooled at once.
        assert held.groups == [1, 4]
        assert spooled(spool_dir) == 5
    assert replay.replay() == replay.ReplayResult(stored=5)
    assert sorted(HeaderHit.objects.values_list("path", flat=True)) == [h.path for h in hits]
