"""The hit table before and after monthly partitioning: insert rate, prune time, statistics time.

Usage: .venv/bin/python bench/partitions.py [--server postgres://postgres@127.0.0.1:5432]
           [--hits 1000000 | --from-db NAME] [--repeat 3] [--keep] [--scratch NAME]

Makes a scratch PostgreSQL database, loads --hits synthetic hits spread over a
year (lambdactr_seed's generator; each key made from its hit's time, as the
beacon makes it), rolls them up, and measures on the plain table:

- inserts: the beacon's one-row INSERT, committed (durable mode), and batches
  of 1,000 as the broker's consumer stores them (COPY);
- statistics: ``lambdactr_report`` for the last 30 and 365 days (median);
- prune: ``lambdactr_prune`` deleting the oldest month by rows.

Then it converts the table with ``lambdactr_partition --convert`` (timed) and
measures the same again, the prune deleting the next month: whole months are
dropped, the partial one is deleted by rows. Prints one line per figure; the
machine may be shared, so run it twice before believing a small difference.

--from-db NAME fills the scratch database with the hits of an existing one on
the same server instead (e.g. one that bench/stats_scale.py --keep seeded with
10 million: generating them again takes half an hour). It only reads NAME, in
a read-only session, a few hundred thousand rows per statement (ranges of its
table's blocks, so no transaction is long), streamed with ``COPY ... TO
STDOUT (FORMAT BINARY)`` into ``COPY ... FROM STDIN (FORMAT BINARY)``, and
gives each hit a key made from its time (lambdactr_seed's keys are made when
it runs), keeping the key's random bits; the scratch table's indexes but its
primary key are built after the copy. Then it rolls up and measures as above.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
NAME = "lambdactr_bench_partitions"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--hits", type=int, default=1_000_000)
    parser.add_argument(
        "--from-db", metavar="NAME", help="Copy the hits of this database (read only)."
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="Do not drop the scratch database.")
    parser.add_argument("--scratch", default=NAME, help=f"The scratch database (default: {NAME}).")
    args = parser.parse_args()
    server = args.server.rstrip("/")
    if args.from_db == args.scratch:
        parser.error("--from-db must not be the scratch database, which is dropped")
    _admin(server, f'DROP DATABASE IF EXISTS "{args.scratch}"')
    _admin(server, f'CREATE DATABASE "{args.scratch}"')
    sys.path.insert(0, str(ROOT))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="example_project.settings",
        DATABASE_URL=f"{server}/{args.scratch}",
        SECRET_KEY="bench-partitions-not-secret",
        DEBUG="False",
        LAMBDACTR_SPOOL_DIR="",
    )
    try:
        _run(args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            _admin(server, f'DROP DATABASE IF EXISTS "{args.scratch}" WITH (FORCE)')


def _admin(server: str, sql: str) -> None:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(sql)


def _run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    if args.from_db:
        copied = _load_from(f"{args.server.rstrip('/')}/{args.from_db}")
        took = time.perf_counter() - started
        print(f"copied {copied:,} hits from {args.from_db} in {took:.1f} s, keys made from times")
    else:
        _load(args.hits)
        took = time.perf_counter() - started
        print(f"loaded {args.hits:,} hits over 365 days in {took:.1f} s")
    started = time.perf_counter()
    call_command("lambdactr_rollup", stdout=io.StringIO())
    print(f"rolled up in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    _measure("plain", args, keep_days=335)
    started = time.perf_counter()
    # Its progress on stderr: at 10 million hits the copy takes a quarter of an hour.
    call_command("lambdactr_partition", "--convert", stdout=sys.stderr)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"converted to monthly partitions in {time.perf_counter() - started:.1f} s")
    _measure("partitioned", args, keep_days=300)


def _load(count: int) -> None:
    from django.db import connection, transaction

    from lambdactr_django.store import database
    from lambdactr_django.synthetic.generator import Generator

    generator = Generator(seed=16, sites=20, days=365)

    def keyed() -> object:
        for row in generator.rows(count):
            yield (_key(row[1]), *row[1:])

    with transaction.atomic():
        database.load_rows(connection.alias, keyed())  # type: ignore[arg-type]


# Blocks of the source's hit table read per statement: 160 MB, about 200,000
# hits of lambdactr_seed's.
BLOCKS = 20_000


def _load_from(url: str) -> int:
    """Copy every hit of the database at ``url`` into this one, one range of its
    table's blocks per statement and per transaction; how many."""
    from django.db import connection, transaction

    from lambdactr_django.hits import COLUMNS
    from lambdactr_django.models import HeaderHit, column_of

    quote = connection.ops.quote_name
    table = quote(HeaderHit._meta.db_table)
    columns = [quote(column_of(HeaderHit._meta.get_field(name))) for name in COLUMNS]
    assert columns[0] == quote("id"), columns
    # The key's first 48 bits become its hit's millisecond, as uuid7 makes them;
    # its version, variant and random bits stay.
    key = (
        "(lpad(to_hex(floor(extract(epoch FROM created_at) * 1000)::bigint), 12, '0')"
        " || substr(replace(id::text, '-', ''), 13))::uuid"
    )
    chosen = ", ".join([key, *columns[1:]])
    into = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    copied = 0
    started = time.perf_counter()
    connection.ensure_connection()
    # The secondary indexes are built after the copy, as pg_restore does: at 10
    # million rows in random order that is minutes, where keeping four indexes
    # up to date row by row took most of the copy's time.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname "
            "NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
            [HeaderHit._meta.db_table, HeaderHit._meta.db_table],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    with psycopg.connect(
        url, autocommit=True, options="-c default_transaction_read_only=on"
    ) as source:
        size = source.execute(
            "SELECT pg_relation_size(%s::regclass) / current_setting('block_size')::int",
            [HeaderHit._meta.db_table],
        ).fetchone()
        blocks = int(size[0]) if size else 0
        for low in range(0, blocks + 1, BLOCKS):
            # The last range is open: nothing the source gained meanwhile is missed.
            upper = f" AND ctid < '({low + BLOCKS},0)'::tid" if low + BLOCKS <= blocks else ""
            query = (
                f"COPY (SELECT {chosen} FROM {table} "  # noqa: S608
                f"WHERE ctid >= '({low},0)'::tid{upper}) TO STDOUT (FORMAT BINARY)"
            )
            # The psycopg 3 connections themselves: Django's cursor wrapper has no copy().
            with (
                transaction.atomic(),
                connection.connection.cursor() as cursor,
                source.cursor() as reader,
            ):
                with reader.copy(query) as out, cursor.copy(into) as put:
                    for data in out:
                        put.write(data)
                copied += cursor.rowcount
            rate = copied / max(time.perf_counter() - started, 1e-9)
            print(f"  {copied:,} hits copied ({rate:,.0f}/s)", file=sys.stderr)
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for name, definition in indexes:
            print(f"  building {name}", file=sys.stderr)
            cursor.execute(definition)
        cursor.execute("RESET maintenance_work_mem")
    return copied


def _key(instant: dt.datetime) -> str:
    return f"{int(instant.timestamp() * 1000):012x}7{os.urandom(10).hex()[:19]}"


def _measure(label: str, args: argparse.Namespace, keep_days: int) -> None:
    from django.core.management import call_command

    from lambdactr_django.hits import Hit
    from lambdactr_django.models import HeaderHit
    from lambdactr_django.store import database, rows

    def make_hit(path: str) -> Hit:
        return Hit(
            site="blog.example",
            path=path,
            referrer="https://search.example/",
            user_agent="Mozilla/5.0 bench",
            verified=True,
            headers={"User-Agent": "Mozilla/5.0 bench", "Accept": "text/css"},
        )

    # The beacon's durable write: one INSERT, committed.
    count = 2000
    started = time.perf_counter()
    for _ in range(count):
        database.insert(rows.new_row(make_hit("/bench/")))
    single = count / (time.perf_counter() - started)
    # The consumer's batches.
    batches = 20
    records = [[rows.new_record(make_hit("/bench/")) for _ in range(1000)] for _ in range(batches)]
    started = time.perf_counter()
    for batch in records:
        database.store_new_records(batch)
    batched = batches * 1000 / (time.perf_counter() - started)
    print(f"{label}: inserts {single:,.0f}/s one by one, {batched:,.0f}/s in batches of 1,000")

    for span in (30, 365):
        call_command("lambdactr_report", days=span, stdout=io.StringIO())
        took = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            call_command("lambdactr_report", days=span, stdout=io.StringIO())
            took.append(time.perf_counter() - started)
        print(f"{label}: lambdactr_report --days {span}: {statistics.median(took) * 1000:,.0f} ms")

    before = HeaderHit.objects.count()
    out = io.StringIO()
    started = time.perf_counter()
    call_command("lambdactr_prune", days=keep_days, batch_size=10_000, stdout=out)
    took = time.perf_counter() - started
    dropped = sum(1 for line in out.getvalue().splitlines() if line.startswith("Dropped"))
    gone = before - HeaderHit.objects.count()
    print(
        f"{label}: lambdactr_prune --days {keep_days}: {gone:,} hits gone in {took:.2f} s "
        f"({dropped} whole partitions dropped)"
    )


if __name__ == "__main__":
    main()
