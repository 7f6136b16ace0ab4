"""The broker's two halves on their own: hits one process adds to the stream, and hits one
``lambdactr_ingest`` consumer stores per second.

Usage: .venv/bin/python bench/ingest.py [--server postgres://postgres@127.0.0.1:5432]
           [--hits 50000] [--batch 1000]

Starts a redis-server of its own (appendonly, appendfsync everysec, as
docs/scaling.md advises) on a free loopback port, makes a scratch PostgreSQL
database, then times ``store.ingest.add`` (one beacon process's XADD, no HTTP)
for --hits records, and the consumer draining them in batches of --batch
(read, COPY, commit, XACK + XDEL). The rows are counted against the hits added.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
NAME = "lambdactr_bench_ingest"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--hits", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    server = args.server.rstrip("/")
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        sys.exit("redis-server is not installed")
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        process = subprocess.Popen(  # noqa: S603
            [
                redis_server,
                *("--bind", "127.0.0.1", "--port", str(port), "--dir", directory),
                *("--save", "", "--appendonly", "yes", "--appendfsync", "everysec"),
                *("--logfile", os.path.join(directory, "log")),
            ]
        )
        _admin(server, f'DROP DATABASE IF EXISTS "{NAME}"')
        _admin(server, f'CREATE DATABASE "{NAME}"')
        sys.path.insert(0, str(ROOT))
        os.environ.update(
            DJANGO_SETTINGS_MODULE="example_project.settings",
            DATABASE_URL=f"{server}/{NAME}",
            SECRET_KEY="bench-ingest-not-secret",
            DEBUG="False",
            LAMBDACTR_SPOOL_DIR=directory,
            LAMBDACTR_INGEST_URL=f"redis://127.0.0.1:{port}/0",
        )
        try:
            time.sleep(0.5)
            _run(args)
        finally:
            from django.db import connections

            connections.close_all()
            process.kill()
            process.wait(10)
            _admin(server, f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')


def _admin(server: str, sql: str) -> None:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(sql)


def _run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from lambdactr_django.hits import Hit
    from lambdactr_django.models import HeaderHit
    from lambdactr_django.store import consumer, ingest, rows

    call_command("migrate", verbosity=0)
    hit = Hit(
        site="blog.example",
        path="/bench/",
        referrer="https://search.example/",
        user_agent="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
        verified=True,
        headers={"User-Agent": "Mozilla/5.0 bench", "Accept": "text/css,*/*;q=0.1"},
    )
    records = [rows.new_record(hit) for _ in range(args.hits)]
    started = time.perf_counter()
    refused = sum(1 for record in records if not ingest.add(record))
    took = time.perf_counter() - started
    print(
        f"producer: {args.hits:,} XADDs from one process in {took:.2f} s "
        f"({args.hits / took:,.0f}/s, {took / args.hits * 1e6:.0f} us each); {refused} refused"
    )
    reader = consumer.Consumer(batch=args.batch)
    started = time.perf_counter()
    cpu = time.process_time()
    totals = reader.run(drain=True)
    took = time.perf_counter() - started
    cpu = time.process_time() - cpu
    stored = HeaderHit.objects.count()
    print(
        f"consumer: {totals.stored:,} hits stored in {totals.batches} batches of up to "
        f"{args.batch} in {took:.2f} s ({totals.stored / took:,.0f}/s; consumer CPU "
        f"{cpu / max(totals.stored, 1) * 1e6:.0f} us per hit); rows {stored:,} for "
        f"{args.hits - refused:,} added"
    )


if __name__ == "__main__":
    main()
