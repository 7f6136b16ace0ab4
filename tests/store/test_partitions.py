"""Monthly partitions of the hit table on PostgreSQL: conversion, months ahead, retention."""

from __future__ import annotations

import datetime as dt
import io
import secrets
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.utils import timezone

from lambdactr_django.models import HeaderHit
from lambdactr_django.store import database, durable, partitions, rows
from lambdactr_django.uuid7 import uuid7
from tests.store.test_spool import make_hit

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="partitions are for PostgreSQL"
)


def key(instant: dt.datetime) -> uuid.UUID:
    milliseconds = int(instant.timestamp() * 1000)
    return uuid.UUID(f"{milliseconds:012x}7{secrets.token_hex(10)[:19]}")


def hit_at(instant: dt.datetime, path: str = "/", created_at: dt.datetime | None = None):
    row = rows.new_row(make_hit(path))
    row.id = key(instant)
    row.created_at = created_at or instant
    row.save(force_insert=True)
    return row


def months_ago(months: int, day: int = 10) -> dt.datetime:
    now = timezone.now()
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    return dt.datetime(year, month + 1, day, 12, tzinfo=dt.UTC)


def index_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [partitions.TABLE])
        return {name for (name,) in cursor.fetchall()}


def rows_in(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
        return int(cursor.fetchone()[0])


def test_a_month_begins_where_its_uuid7_keys_begin() -> None:
    start = partitions.month_start(dt.date(2026, 12, 1))
    low = partitions.key_at(start)
    assert low.hex[:12] == f"{int(start.timestamp() * 1000):012x}"
    assert partitions.month_of(low) == dt.date(2026, 12, 1)
    assert partitions.month_of(uuid7()) == dt.date(*timezone.now().timetuple()[:2], 1)
    assert partitions.next_month(dt.date(2026, 12, 1)) == dt.date(2027, 1, 1)
    # Just before the boundary: still November.
    assert key(start - dt.timedelta(milliseconds=1)) < low <= key(start)


@pytest.mark.skipif(connection.vendor == "postgresql", reason="SQLite's refusal")
def test_sqlite_is_left_alone() -> None:
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("lambdactr_partition")


@postgres_only
def test_converting_keeps_every_row_index_name_and_the_key() -> None:
    before_indexes = index_names()
    for months in (2, 1, 0):
        hit_at(months_ago(months), f"/{months}/")
    out = io.StringIO()
    call_command("lambdactr_partition", "--convert", "--batch-size", "2", stdout=out)

    assert partitions.is_partitioned()
    assert "The hit table is partitioned by month: 3 hits" in out.getvalue()
    assert index_names() == before_indexes
    months = [partition.month for partition in partitions.partitions()]
    assert months[0] == months_ago(2).date().replace(day=1)
    assert len(months) == 3 + 3  # The hits' months, and three ahead.
    assert sorted(HeaderHit.objects.values_list("path", flat=True)) == ["/0/", "/1/", "/2/"]
    # The beacon's paths still store, and a key stored twice is still refused once.
    durable.save(make_hit("/after/"))
    again = HeaderHit.objects.get(path="/1/")
    assert database.insert_new([again], batch=True) == 0
    assert HeaderHit.objects.count() == 4
    assert rows_in(partitions.name_of(months_ago(1).date().replace(day=1))) == 1


@postgres_only
def test_months_ahead_and_a_hit_from_beyond_them() -> None:
    partitions.start_conversion(months_ahead=0)
    partitions.finish_conversion()
    far = months_ago(-5)
    hit_at(far, "/future/")
    assert rows_in(partitions.DEFAULT) == 1

    created = partitions.create_ahead(months=6)

    assert partitions.name_of(far.date().replace(day=1)) in created
    assert len(created) == 6
    assert rows_in(partitions.DEFAULT) == 0
    assert rows_in(partitions.name_of(far.date().replace(day=1))) == 1
    assert partitions.create_ahead(months=6) == []


@postgres_only
def test_prune_drops_whole_months_and_deletes_the_rest_by_row() -> None:
    hit_at(months_ago(3), "/old/")
    hit_at(months_ago(3, 20), "/old-too/")
    # A key of an old month on a hit kept: that month is deleted by rows.
    hit_at(months_ago(2), "/imported-late/", created_at=timezone.now())
    hit_at(months_ago(2, 5), "/old-in-mixed/")
    hit_at(timezone.now(), "/new/")
    call_command("lambdactr_partition", "--convert", stdout=io.StringIO())
    old_month = partitions.name_of(months_ago(3).date().replace(day=1))

    out = io.StringIO()
    call_command("lambdactr_prune", "--days", "7", stdout=out)

    assert f"Dropped partition {old_month}" in out.getvalue()
    assert old_month not in {partition.name for partition in partitions.partitions()}
    assert sorted(HeaderHit.objects.values_list("path", flat=True)) == [
        "/imported-late/",
        "/new/",
    ]


@postgres_only
def test_an_interrupted_conversion_goes_on_or_is_dropped() -> None:
    for number in range(5):
        hit_at(months_ago(0, 2 + number), f"/{number}/")
    partitions.start_conversion()
    assert partitions.copy_batch(2) == 2
    # Resumed where it stopped.
    assert partitions.copy_batch(2) == 2
    assert rows_in(partitions.BUILDING) == 4
    partitions.abort_conversion()
    assert not partitions.conversion_started()
    assert not partitions.is_partitioned()
    assert HeaderHit.objects.count() == 5


@postgres_only
def test_prune_stops_rather_than_wait_on_a_busy_table(monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg

    hit_at(months_ago(3), "/old/")
    call_command("lambdactr_partition", "--convert", stdout=io.StringIO())
    tries: list[str] = []

    def locked(partition: partitions.Partition, *args: object) -> None:
        tries.append(partition.name)
        error = OperationalError("canceling statement due to lock timeout")
        error.__cause__ = psycopg.errors.LockNotAvailable()
        raise error

    monkeypatch.setattr(partitions, "_drop", locked)
    monkeypatch.setattr(partitions, "DROP_RETRY_SECONDS", 0.0)
    with pytest.raises(CommandError, match="Run lambdactr_prune again later"):
        call_command("lambdactr_prune", "--days", "7", stdout=io.StringIO())
    assert len(tries) == partitions.DROP_ATTEMPTS
    # Nothing was deleted by rows instead.
    assert HeaderHit.objects.count() == 1
