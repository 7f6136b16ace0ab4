"""Do the hit list and the statistics stay fast from 100,000 to 10 million hits?

Usage: .venv/bin/python bench/stats_scale.py [--server postgres://postgres@127.0.0.1:5432]
           [--small 100000] [--large 10000000] [--repeat 7] [--large-db NAME] [--keep]

Makes two scratch PostgreSQL databases on --server, fills them with
lambdactr_seed (which rolls up the days it filled), then serves the admin
in-process with Django's test client to a superuser and times, taking turns
between the two databases so both see the same load on a shared machine:

* the hit list, unfiltered and filtered by the busiest site and the last 30 days,
* the statistics page for the last 30 days,

and, on the large database, the same 30-day statistics computed by
``stats.report_for`` (rollups for sealed days, raw hits for today) and by
``stats.report`` (every raw hit), checking that they are equal. It prints
medians over --repeat rounds, the large/small ratio of each page and the
raw/rollup ratio. --large-db uses an existing, already seeded database for the
large side instead of seeding one (it is migrated and rolled up, never dropped).
The scratch databases are dropped at the end unless --keep is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PREFIX = "lambdactr_bench_stats_"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--large-db", help="An existing seeded database for the large side.")
    parser.add_argument("--keep", action="store_true", help="Do not drop the scratch databases.")
    args = parser.parse_args()
    server = args.server.rstrip("/")
    names = {"small": f"{PREFIX}small", "large": args.large_db or f"{PREFIX}large"}
    made = [names["small"]] if args.large_db else list(names.values())
    for name in made:
        _admin(server, f'DROP DATABASE IF EXISTS "{name}"')
        _admin(server, f'CREATE DATABASE "{name}"')
    os.environ["BENCH_SMALL_URL"] = f"{server}/{names['small']}"
    os.environ["BENCH_LARGE_URL"] = f"{server}/{names['large']}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.stats_settings"
    try:
        _run(args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            for name in made:
                _admin(server, f'DROP DATABASE IF EXISTS "{name}"')


def _admin(server: str, sql: str) -> None:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(sql)


def _run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connections
    from django.db.models import Sum
    from django.test import Client, override_settings
    from django.test.utils import setup_test_environment

    from lambdactr_django import days, stats
    from lambdactr_django.models import Rollup
    from lambdactr_django.stats import rollups

    setup_test_environment()
    quiet = open(os.devnull, "w")  # noqa: SIM115
    call_command("migrate", database="default", verbosity=0)
    sizes = {"small": args.small, "large": args.large}
    for alias in ("small", "large"):
        call_command("migrate", database=alias, verbosity=0)
        with override_settings(LAMBDACTR_DATABASE=alias):
            if alias == "large" and args.large_db:
                started = time.perf_counter()
                call_command("lambdactr_rollup", stdout=quiet)
                print(f"large: rolled up the existing database in {_since(started):.0f} ms")
            else:
                started = time.perf_counter()
                call_command("lambdactr_seed", hits=sizes[alias], yes=True, stdout=quiet)
                took = _since(started)
                print(f"{alias}: seeded and rolled up {sizes[alias]:,} hits in {took:.0f} ms")
            with connections[alias].cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
            rows = Rollup.objects.using(alias).count()
            print(f"{alias}: {rows:,} rollup rows")

    user, _ = get_user_model().objects.get_or_create(
        username="bench-stats", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)

    def busiest_site(alias: str) -> str:
        top = (
            Rollup.objects.using(alias)
            .filter(dimension=rollups.DEVICE)
            .values("site")
            .annotate(n=Sum("hits"))
            .order_by("-n")
            .first()
        )
        return top["site"] if top else ""

    sites = {alias: busiest_site(alias) for alias in ("small", "large")}
    base = "/admin/lambdactr_django/headerhit/"
    pages: dict[str, Callable[[str], str]] = {
        "hit list, unfiltered": lambda alias: base,
        "hit list, site + last 30 days": lambda alias: f"{base}?site={sites[alias]}&when=30d",
        "statistics, last 30 days": lambda alias: f"{base}statistics/?when=30d",
    }
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.repeat):
        for label, url in pages.items():
            for alias in ("small", "large"):
                with override_settings(LAMBDACTR_DATABASE=alias):
                    started = time.perf_counter()
                    response = client.get(url(alias))
                    elapsed = _since(started)
                assert response.status_code == 200, (url(alias), response.status_code)
                times.setdefault((label, alias), []).append(elapsed)

    start, end = days.last_days(30)
    rolled_times, raw_times = [], []
    with override_settings(LAMBDACTR_DATABASE="large"):
        for _ in range(args.repeat):
            started = time.perf_counter()
            rolled = stats.report_for(start=start, end=end)
            rolled_times.append(_since(started))
            started = time.perf_counter()
            raw = stats.report(stats.select(start=start, end=end), stats.Traffic.HUMAN, start, end)
            raw_times.append(_since(started))
            assert rolled == raw, "the rollups and the raw hits disagree"

    # Yesterday not rolled up yet (before cron, or just refreshed): a whole day
    # of the 30 read from the raw hits.
    unsealed: dict[str, list[float]] = {"small": [], "large": []}
    yesterday = end - dt.timedelta(days=1)
    for alias in ("small", "large"):
        with override_settings(LAMBDACTR_DATABASE=alias):
            rollups.forget([yesterday])
            for _ in range(args.repeat):
                started = time.perf_counter()
                stats.report_for(start=start, end=end, catch_up=False)
                unsealed[alias].append(_since(started))
            rollups.roll([yesterday])

    print(f"\nmedians of {args.repeat} rounds, ms")
    print(f"small = {args.small:,} hits, large = {args.large_db or f'{args.large:,} hits'}")
    print(f"{'':34} {'small':>9} {'large':>9} {'large/small':>12}")
    for label in pages:
        small = statistics.median(times[(label, "small")])
        large = statistics.median(times[(label, "large")])
        print(f"{label:34} {small:9.1f} {large:9.1f} {large / small:12.2f}")
    small, large = (statistics.median(unsealed[alias]) for alias in ("small", "large"))
    label = "stats 30 days, yesterday raw (fn)"
    print(f"{label:34} {small:9.1f} {large:9.1f} {large / small:12.2f}")
    rolled_ms, raw_ms = statistics.median(rolled_times), statistics.median(raw_times)
    print("\nlarge, statistics for the last 30 days, the same numbers (checked):")
    print(f"  from rollups {rolled_ms:.1f} ms, from raw hits {raw_ms:.1f} ms")
    print(f"raw/rollups: {raw_ms / rolled_ms:.1f}x")
    user.delete()


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


if __name__ == "__main__":
    main()
