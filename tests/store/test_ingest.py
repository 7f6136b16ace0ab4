"""Broker ingest against the real Redis here (a database of its own, /5 by default)."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.test import RequestFactory, override_settings

from lambdactr_django.beacon.views import stylesheet
from lambdactr_django.models import HeaderHit
from lambdactr_django.signals import hits_stored
from lambdactr_django.store import consumer, database, ingest, replay, rows, spool
from tests.server import free_port
from tests.store.test_spool import make_hit

redis = pytest.importorskip("redis")

pytestmark = pytest.mark.django_db


def stream_of(client: redis.Redis) -> str:
    return str(ingest.conf.INGEST_STREAM)


def beacon(path: str = "/a/") -> int:
    request = RequestFactory().get("/ctr/s.css", HTTP_REFERER=f"https://blog.example{path}")
    return stylesheet(request).status_code


def spooled_ids(directory: Path) -> list[str]:
    return [
        json.loads(line)["id"]
        for path in spool.spool_files(directory)
        for line in path.read_text().splitlines()
        if line.strip()
    ]


def test_the_beacon_adds_to_the_stream_without_a_query(
    broker: redis.Redis, django_assert_num_queries
) -> None:
    with django_assert_num_queries(0):
        assert beacon("/one/") == 200
    entries = broker.xrange(stream_of(broker))
    assert len(entries) == 1
    record = json.loads(entries[0][1][ingest.FIELD])
    assert record["path"] == "/one/"
    assert set(record) == {"id", "created_at", *rows.HIT_FIELDS}
    assert HeaderHit.objects.count() == 0


def test_the_consumer_stores_acknowledges_and_announces(broker: redis.Redis) -> None:
    for number in range(5):
        beacon(f"/{number}/")
    announced: list[int] = []

    def listen(sender: object, created_at: list[object], **kwargs: object) -> None:
        announced.append(len(created_at))

    hits_stored.connect(listen)
    try:
        reader = consumer.Consumer(batch=2)
        reader.ensure_group()
        totals = reader.run(drain=True)
    finally:
        hits_stored.disconnect(listen)
    assert sorted(HeaderHit.objects.values_list("path", flat=True)) == [f"/{n}/" for n in range(5)]
    assert (totals.stored, totals.batches, totals.already_stored) == (5, 3, 0)
    assert announced == [2, 2, 1]
    # Acknowledged and deleted: the stream's length is what is not stored yet.
    assert broker.xlen(stream_of(broker)) == 0
    assert broker.xpending(stream_of(broker), consumer.GROUP)["pending"] == 0


def test_entries_of_a_consumer_that_died_are_claimed_and_stored_once(
    broker: redis.Redis,
) -> None:
    for number in range(4):
        beacon(f"/{number}/")
    dead = consumer.Consumer(name="dead", batch=10)
    dead.ensure_group()
    taken = dead.take(block=False)
    # Committed, then killed before its acknowledgement.
    dead._store(taken)
    assert HeaderHit.objects.count() == 4
    time.sleep(0.1)  # Past LAMBDACTR_INGEST_CLAIM_SECONDS.

    other = consumer.Consumer(name="other", batch=10)
    totals = other.run(drain=True)

    assert (totals.claimed, totals.stored, totals.already_stored) == (4, 0, 4)
    assert HeaderHit.objects.count() == 4
    assert broker.xlen(stream_of(broker)) == 0


def test_a_consumer_restarted_under_its_name_takes_its_own_pending_first(
    broker: redis.Redis,
) -> None:
    beacon("/mine/")
    first = consumer.Consumer(name="fixed")
    first.ensure_group()
    assert len(first.take(block=False)) == 1
    with override_settings(LAMBDACTR_INGEST_CLAIM_SECONDS=3600):
        again = consumer.Consumer(name="fixed")
        totals = again.run(drain=True)
    assert totals.stored == 1
    assert list(HeaderHit.objects.values_list("path", flat=True)) == ["/mine/"]


def test_a_batch_the_database_could_not_take_is_kept_and_tried_again(
    broker: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(3):
        beacon(f"/{number}/")
    real = database.store_new_records
    calls: list[int] = []

    def down_once(records: list[dict[str, object]]) -> int:
        calls.append(len(records))
        if len(calls) == 1:
            raise OperationalError("the database is restarting")
        return real(records)

    monkeypatch.setattr(database, "store_new_records", down_once)
    with override_settings(LAMBDACTR_INGEST_CLAIM_SECONDS=3600):
        totals = consumer.Consumer().run(drain=True)

    assert calls == [3, 3]
    assert (totals.retries, totals.stored, totals.claimed) == (1, 3, 0)
    assert HeaderHit.objects.count() == 3
    assert broker.xlen(stream_of(broker)) == 0


def test_what_is_not_a_hit_is_set_aside_and_the_rest_stored(broker: redis.Redis) -> None:
    stream = stream_of(broker)
    beacon("/good/")
    broker.xadd(stream, {ingest.FIELD: b"not json"})
    broken = rows.new_record(make_hit("/no-site/"))
    del broken["site"]
    broker.xadd(stream, {ingest.FIELD: json.dumps(broken)})
    beacon("/good-too/")

    totals = consumer.Consumer().run(drain=True)

    assert sorted(HeaderHit.objects.values_list("path", flat=True)) == ["/good-too/", "/good/"]
    assert (totals.stored, totals.refused) == (2, 2)
    refused = broker.xrange(stream + consumer.REFUSED_SUFFIX)
    assert [fields[ingest.FIELD] for _, fields in refused] == [
        b"not json",
        json.dumps(broken).encode(),
    ]
    assert broker.xlen(stream) == 0


def test_a_full_stream_refuses_to_the_spool_and_counts(broker: redis.Redis, tmp_path: Path) -> None:
    before = ingest.overflowed.total
    with override_settings(LAMBDACTR_INGEST_MAX_LENGTH=2):
        statuses = [beacon(f"/{n}/") for n in range(3)]
        spooled = spooled_ids(tmp_path / "spool")
    assert statuses == [200, 200, 200]
    assert broker.xlen(stream_of(broker)) == 2
    assert len(spooled) == 1
    assert ingest.overflowed.total == before + 1
    # The two in the stream and the one in the spool: each stored once.
    consumer.Consumer().run(drain=True)
    replay.replay()
    assert sorted(HeaderHit.objects.values_list("path", flat=True)) == ["/0/", "/1/", "/2/"]


def test_an_unreachable_broker_costs_no_error_and_no_hit(tmp_path: Path) -> None:
    # A port nothing listens on: refused at once.
    with override_settings(
        LAMBDACTR_INGEST_URL=f"redis://127.0.0.1:{free_port()}/0",
        LAMBDACTR_SPOOL_DIR=str(tmp_path / "spool"),
    ):
        ingest.reset()
        before = ingest.unreachable.total
        started = time.monotonic()
        statuses = [beacon(f"/{n}/") for n in range(3)]
        took = time.monotonic() - started
        ids = spooled_ids(tmp_path / "spool")
        ingest.reset()
        replay.replay()
    assert statuses == [200, 200, 200]
    assert took < 2
    assert len(ids) == 3
    # The first failed; the two after it were not even tried (the back-off).
    assert ingest.unreachable.total == before + 3
    assert sorted(str(pk) for pk in HeaderHit.objects.values_list("id", flat=True)) == sorted(ids)


def test_the_command_drains_and_explains(broker: redis.Redis) -> None:
    beacon("/cmd/")
    out = io.StringIO()
    call_command("lambdactr_ingest", "--drain", stdout=out, stderr=io.StringIO())
    assert "1 hits waiting" in out.getvalue()
    assert "Stored 1 hits in 1 batches" in out.getvalue()
    assert HeaderHit.objects.count() == 1


def test_the_command_needs_a_broker() -> None:
    with override_settings(LAMBDACTR_INGEST_URL=None), pytest.raises(CommandError):
        call_command("lambdactr_ingest", "--drain")


def test_drain_gives_up_while_the_database_stays_away(
    broker: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    beacon("/waits/")

    def down(records: list[dict[str, object]]) -> int:
        raise OperationalError("the database is away")

    monkeypatch.setattr(database, "store_new_records", down)
    monkeypatch.setattr(consumer, "RETRY_SECONDS", (0.01,))
    with pytest.raises(CommandError, match="database is unavailable"):
        call_command("lambdactr_ingest", "--drain", stdout=io.StringIO(), stderr=io.StringIO())
    # Still there for the next run.
    assert broker.xlen(stream_of(broker)) == 1
    assert HeaderHit.objects.count() == 0
