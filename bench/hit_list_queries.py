"""Where one page of the hit list spends its time: the queries it issues, timed on
two existing databases (read only), and their plans.

Usage: .venv/bin/python bench/hit_list_queries.py --small NAME --large NAME
           [--server postgres://postgres@127.0.0.1:5432] [--query "site={site}&when=30d"]
           [--at 2026-12-02T00:05:00+00:00] [--repeat 5] [--explain 3]

Serves the admin's hit list in-process with Django's test client to a
superuser (bench/stats_settings.py: users and sessions on a scratch SQLite
file, the counter's tables on --small or --large through the router), taking
turns between the two databases, and records every query each page sent to
the counter's database (Django's CaptureQueriesContext, whose times are
rounded to the millisecond). Prints the page's
median time on each side and their ratio, and the median time of each query
on the large side, slowest first; with --explain N, ``EXPLAIN (ANALYZE,
BUFFERS)`` of the N slowest. ``{site}`` in --query is each database's busiest
site (by its rollups). --at pins Django's clock in this process, as
bench/stats_scale.py does, to the instant the databases were seeded for.

Both databases are only read: every session is opened with
``default_transaction_read_only``, so a write would fail rather than happen,
and nothing is migrated there.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIDES = ("small", "large")
LIST = "/admin/lambdactr_django/headerhit/"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--small", required=True, help="The small database (read only).")
    parser.add_argument("--large", required=True, help="The large database (read only).")
    parser.add_argument("--query", default="site={site}&when=30d", help="The list's query.")
    parser.add_argument("--at", type=dt.datetime.fromisoformat, help="Pin the clock here.")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--explain", type=int, default=0, metavar="N")
    args = parser.parse_args()
    server = args.server.rstrip("/")
    os.environ["BENCH_SMALL_URL"] = f"{server}/{args.small}"
    os.environ["BENCH_LARGE_URL"] = f"{server}/{args.large}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.stats_settings"
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections

    for alias in SIDES:
        # Before the first connection: every session of these two is read only.
        connections[alias].settings_dict.setdefault("OPTIONS", {})["options"] = (
            "-c default_transaction_read_only=on"
        )
    try:
        _run(args)
    finally:
        connections.close_all()
        Path(settings.DATABASES["default"]["NAME"]).unlink(missing_ok=True)


def _run(args: argparse.Namespace) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connections
    from django.db.models import Sum
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.utils import timezone

    from lambdactr_django.models import Rollup
    from lambdactr_django.stats import rollups

    setup_test_environment()
    if args.at is not None:
        instant = args.at if args.at.tzinfo else args.at.replace(tzinfo=dt.UTC)
        timezone.now = lambda: instant  # type: ignore[assignment]
    call_command("migrate", database="default", verbosity=0)
    user = get_user_model().objects.create(username="bench", is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)

    urls = {}
    for alias in SIDES:
        if "{site}" not in args.query:
            urls[alias] = f"{LIST}?{args.query}"
            continue
        top = (
            Rollup.objects.using(alias)
            .filter(dimension=rollups.DEVICE, scope=rollups.SITE)
            .values("site")
            .annotate(n=Sum("views"))
            .order_by("-n")
            .first()
        )
        urls[alias] = f"{LIST}?{args.query.format(site=top['site'] if top else '')}"
        print(f"{alias}: {urls[alias]}")

    pages: dict[str, list[float]] = defaultdict(list)
    queries: dict[str, list[float]] = defaultdict(list)
    counts: dict[str, int] = {}
    sent: dict[str, int] = {}
    for _ in range(args.repeat):
        for alias in SIDES:
            with (
                override_settings(LAMBDACTR_DATABASE=alias),
                CaptureQueriesContext(connections[alias]) as captured,
            ):
                started = time.perf_counter()
                response = client.get(urls[alias])
                pages[alias].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (urls[alias], response.status_code)
            counts[alias] = len(captured.captured_queries)
            if alias == "large":
                # A statement a page sends twice (both change lists) counts as their sum.
                page: dict[str, float] = defaultdict(float)
                for query in captured.captured_queries:
                    page[query["sql"]] += float(query["time"]) * 1000
                    sent[query["sql"]] = sum(
                        1 for other in captured.captured_queries if other["sql"] == query["sql"]
                    )
                for sql, took in page.items():
                    queries[sql].append(took)

    small, large = (statistics.median(pages[alias]) for alias in SIDES)
    print(f"page, median of {args.repeat} (ms): small {small:.1f}, large {large:.1f}, ", end="")
    print(f"large/small {large / small:.2f}; queries: small {counts['small']}, ", end="")
    print(f"large {counts['large']}")
    slowest = sorted(queries, key=lambda sql: -statistics.median(queries[sql]))
    total = sum(statistics.median(times) for times in queries.values())
    print(f"large, its queries' medians add up to {total:.1f} ms:")
    for sql in slowest:
        print(f"  {statistics.median(queries[sql]):9.1f} ms {sent[sql]}x  {_short(sql)}")
    for sql in slowest[: args.explain]:
        print(f"\nEXPLAIN (ANALYZE, BUFFERS) {_short(sql, 400)}")
        with connections["large"].cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {_bare(sql)}")
            for (line,) in cursor.fetchall():
                print(f"  {line}")


def _bare(sql: str) -> str:
    # planned_rows' own EXPLAIN, explained again, is the statement inside it.
    prefix = "EXPLAIN (FORMAT JSON) "
    return sql[len(prefix) :] if sql.startswith(prefix) else sql


def _short(sql: str, width: int = 400) -> str:
    # Without the table's name before each column and a long column list.
    sql = " ".join(sql.split()).replace('"lambdactr_django_headerhit".', "")
    sql = re.sub(r"SELECT (\S+, ){3,}\S+ FROM", "SELECT … FROM", sql, count=1)
    return sql if len(sql) <= width else f"{sql[: width - 1]}…"


if __name__ == "__main__":
    main()
