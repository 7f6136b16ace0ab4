"""Do the hit list and the statistics stay fast from 100,000 to 10 million hits,
at the worst hour of the day?

Usage: .venv/bin/python bench/stats_scale.py [--server postgres://postgres@127.0.0.1:5432]
           [--small 100000] [--large 10000000] [--repeat 7] [--raw-repeat 3]
           [--large-db NAME] [--midnight YYYY-MM-DD] [--prefix lambdactr_bench_stats_] [--keep]

Makes two scratch PostgreSQL databases on --server, fills them with
lambdactr_seed (which rolls up what it made), then serves the admin in-process
with Django's test client to a superuser and times, taking turns between the
two databases so both see the same load on a shared machine.

The clock is pinned, in this process only, to the hour that costs the
statistics most: a minute before the site's midnight, when "today" holds a
whole day of hits, and again five minutes after it, when yesterday cannot be
sealed yet (--midnight chooses the day that midnight begins, so a kept
database can be measured again at the hour it was seeded for).
``django.utils.timezone.now`` is replaced here (the statistics,
the calendar, the rollups and the seed's generator all read Django's clock),
and the seed's hits end at the pinned instant. The midnight is the site's
latest one that is at least ten minutes past, so the pinned instants are
never in the future. Nothing outside this script trusts the pinned clock.

At each pinned instant it times the hit list (unfiltered, and the busiest site
over the last 30 days) and the statistics page for the last 30 days and the
last 12 months; and, on the large database, the same 30-day statistics from
``stats.report_for`` (rollups) and from ``stats.report`` (every raw hit),
checking that they are equal. It prints medians over --repeat rounds (the raw
count over --raw-repeat), the large/small ratio of each page, the raw/rollup
ratio, the rollup rows per dimension and how many hits each row stands for.

--large-db uses an existing, already seeded database for the large side
instead of seeding one: it is migrated and its rollups rebuilt at the pinned
instant (unless --reuse-rollups says the code under test built them there),
and never dropped; its hits keep the times they were seeded with, so pass the
--midnight it was seeded for. The scratch databases are named --prefix +
small/large and dropped at the end unless --keep is given.
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
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIDES = ("small", "large")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--raw-repeat", type=int, default=3, help="Rounds of the raw count.")
    parser.add_argument("--large-db", help="An existing seeded database for the large side.")
    parser.add_argument(
        "--reuse-rollups",
        action="store_true",
        help="With --large-db: keep its rollups (built by this code at this --midnight).",
    )
    parser.add_argument(
        "--midnight",
        type=dt.date.fromisoformat,
        help="The day whose midnight is measured (default: the latest one 10 minutes past).",
    )
    parser.add_argument("--prefix", default="lambdactr_bench_stats_", help="Scratch DB names.")
    parser.add_argument("--keep", action="store_true", help="Do not drop the scratch databases.")
    args = parser.parse_args()
    server = args.server.rstrip("/")
    names = {"small": f"{args.prefix}small", "large": args.large_db or f"{args.prefix}large"}
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


def _pin(instant: dt.datetime) -> None:
    # The benchmark's own process only: every reader of the time asks Django's
    # clock (timezone.now, and localdate through it), looked up at each call.
    from django.utils import timezone

    timezone.now = lambda: instant  # type: ignore[assignment]


def _worst_hours(day: dt.date | None) -> tuple[dt.datetime, dt.datetime]:
    """A minute before and five minutes after the midnight that begins ``day``
    (default: the site's latest midnight that is at least ten minutes past)."""
    from lambdactr_django import days

    real = dt.datetime.now(dt.UTC)
    if day is None:
        day = days.day_of(real)
        if real - days.start_of(day).astimezone(dt.UTC) < dt.timedelta(minutes=10):
            day -= dt.timedelta(days=1)
    utc = days.start_of(day).astimezone(dt.UTC)
    return utc - dt.timedelta(minutes=1), utc + dt.timedelta(minutes=5)


def _run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.test import override_settings
    from django.test.utils import setup_test_environment

    from lambdactr_django import days
    from lambdactr_django.models import Rollup

    setup_test_environment()
    before, after = _worst_hours(args.midnight)
    zone = days.site_zone()
    print(f"site time zone {zone.key}; clock pinned at {_local(before)} and {_local(after)}")
    _pin(before)
    quiet = open(os.devnull, "w")  # noqa: SIM115
    call_command("migrate", database="default", verbosity=0)
    sizes = {"small": args.small, "large": args.large}
    for alias in SIDES:
        call_command("migrate", database=alias, verbosity=0)
        with override_settings(LAMBDACTR_DATABASE=alias):
            started = time.perf_counter()
            if alias == "large" and args.large_db and args.reuse_rollups:
                print("large: kept the existing database's rollups (--reuse-rollups)")
            elif alias == "large" and args.large_db:
                # The rollups of the code under test, counted at the pinned instant.
                call_command("lambdactr_rollup", rebuild=True, stdout=quiet)
                print(f"large: rebuilt the existing database's rollups in {_since(started):.0f} ms")
            else:
                call_command("lambdactr_seed", hits=sizes[alias], yes=True, stdout=quiet)
                took = _since(started)
                print(f"{alias}: seeded and rolled up {sizes[alias]:,} hits in {took:.0f} ms")
            with connections[alias].cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
            print(f"{alias}: {Rollup.objects.using(alias).count():,} rollup rows")

    for label, instant in (("a minute before midnight", before), ("just after", after)):
        _pin(instant)
        print(f"\n== {label}: {_local(instant)} ==")
        _row_counts()
        _time_pages(args)
        _rolled_against_raw(args)
        _roll_today(args)


def _local(instant: dt.datetime) -> str:
    from lambdactr_django import days

    return instant.astimezone(days.site_zone()).strftime("%Y-%m-%d %H:%M %Z")


def _row_counts() -> None:
    from django.db.models import Count, F, Min, Sum
    from django.test import override_settings

    from lambdactr_django import days
    from lambdactr_django.models import HeaderHit, Rollup
    from lambdactr_django.stats import rollups

    for alias in SIDES:
        with override_settings(LAMBDACTR_DATABASE=alias):
            rollups.catch_up()
            rows = Rollup.objects.using(alias)
            hits = HeaderHit.objects.using(alias).count()
            total = rows.count()
            per = dict(rows.values_list("dimension").annotate(n=Count("pk")).order_by())
            shown = ", ".join(f"{name} {per.get(name, 0):,}" for name in rollups.DIMENSIONS)
            print(
                f"{alias}: {total:,} rollup rows for {hits:,} hits "
                f"({hits / max(total, 1):.2f} hits a row): {shown}"
            )
            # The last 30 whole days: the rows a month of statistics reads.
            end = days.today() - dt.timedelta(days=1)
            start = end - dt.timedelta(days=29)
            month = rows.filter(day__gte=start, day__lte=end, period=rollups.DAY)
            every_kind = F("views") + F("visitors") + F("seconds")
            # One scope's device rows count every hit once.
            device = month.filter(dimension=rollups.DEVICE, scope=rollups.SITE)
            month_hits = device.aggregate(n=Sum(every_kind))["n"] or 0
            month_rows = month.count()
            # The rows of the whole months among those days count too.
            whole = rows.filter(
                period=rollups.MONTH, day__in=rollups.sealed_months([(start, end)])
            ).count()
            first = month.aggregate(first=Min("day"))["first"]
            every = month.filter(scope=rollups.ALL).count()
            print(
                f"{alias}: {start} to {end} (rows from {first}): {month_rows:,} day rows "
                f"({every:,} of them every site's) + {whole:,} month rows for "
                f"{month_hits:,} hits = {100 * (month_rows + whole) / max(month_hits, 1):.1f} %"
            )
            months = rows.filter(period=rollups.MONTH)
            print(
                f"{alias}: {months.count():,} month rows for "
                f"{months.values('day').distinct().count()} whole months"
            )


def _time_pages(args: argparse.Namespace) -> None:
    from django.contrib.auth import get_user_model
    from django.db.models import Sum
    from django.test import Client, override_settings

    from lambdactr_django import days
    from lambdactr_django.models import Rollup
    from lambdactr_django.stats import rollups

    user, _ = get_user_model().objects.get_or_create(
        username="bench-stats", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)

    def busiest_site(alias: str) -> str:
        top = (
            Rollup.objects.using(alias)
            .filter(dimension=rollups.DEVICE, period=rollups.DAY, scope=rollups.SITE)
            .values("site")
            .annotate(n=Sum("views"))
            .order_by("-n")
            .first()
        )
        return top["site"] if top else ""

    sites = {alias: busiest_site(alias) for alias in SIDES}
    year = days.last_days(365)
    base = "/admin/lambdactr_django/headerhit/"
    pages: dict[str, Callable[[str], str]] = {
        "hit list, unfiltered": lambda alias: base,
        "hit list, site + last 30 days": lambda alias: f"{base}?site={sites[alias]}&when=30d",
        "statistics, last 30 days": lambda alias: f"{base}statistics/?when=30d",
        "statistics, last 12 months": lambda alias: (
            f"{base}statistics/?since={year[0]}&until={year[1]}"
        ),
    }
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.repeat):
        for label, url in pages.items():
            for alias in SIDES:
                with override_settings(LAMBDACTR_DATABASE=alias):
                    started = time.perf_counter()
                    response = client.get(url(alias))
                    elapsed = _since(started)
                assert response.status_code == 200, (url(alias), response.status_code)
                times.setdefault((label, alias), []).append(elapsed)
    print(f"medians of {args.repeat} rounds, ms")
    print(f"{'':34} {'small':>9} {'large':>9} {'large/small':>12}")
    for label in pages:
        small = statistics.median(times[(label, "small")])
        large = statistics.median(times[(label, "large")])
        print(f"{label:34} {small:9.1f} {large:9.1f} {large / small:12.2f}")
    user.delete()


def _rolled_against_raw(args: argparse.Namespace) -> None:
    from django.test import override_settings

    from lambdactr_django import days, stats

    start, end = days.last_days(30)
    rolled_times, raw_times = [], []
    rolled: Any = None
    raw: Any = None
    with override_settings(LAMBDACTR_DATABASE="large"):
        for _ in range(args.repeat):
            started = time.perf_counter()
            rolled = stats.report_for(start=start, end=end)
            rolled_times.append(_since(started))
        hits = stats.select(start=start, end=end)
        for _ in range(args.raw_repeat):
            started = time.perf_counter()
            raw = stats.report(hits, stats.Traffic.HUMAN, start, end)
            raw_times.append(_since(started))
        every = stats.report(hits, stats.Traffic.HUMAN, start, end, limit=10**7)
    exact = _check(rolled, raw, every)
    rolled_ms, raw_ms = statistics.median(rolled_times), statistics.median(raw_times)
    print(f"large, the same 30-day numbers ({exact}): from rollups {rolled_ms:.1f} ms,")
    print(f"  from raw hits {raw_ms:.1f} ms: raw/rollups {raw_ms / rolled_ms:.1f}x")


LISTS = (
    *("pages", "referrers", "browsers", "systems", "devices", "bot_reasons"),
    *("channels", "entry_pages", "sources", "mediums", "campaigns", "languages", "countries"),
)


def _check(rolled: Any, raw: Any, every: Any) -> str:
    """Every number but the top lists equal, each listed count within its bound;
    says which lists came out exact."""
    import dataclasses

    def bare(report: Any) -> Any:
        return dataclasses.replace(report, **{name: [] for name in LISTS}, unlisted={})

    assert bare(rolled) == bare(raw), "the rollups and the raw hits disagree"
    exact = []
    for name in LISTS:
        truth = {row.label: row for row in getattr(every, name)}
        for row in getattr(rolled, name):
            real = truth[row.label]
            assert row.views <= real.views <= row.views + row.short, (name, row, real)
        if getattr(rolled, name) == getattr(raw, name):
            exact.append(name)
    shorts = {name: max((r.short for r in getattr(rolled, name)), default=0) for name in LISTS}
    return (
        "totals and days checked equal; lists equal to the raw ones: "
        f"{', '.join(exact) or 'none'}; "
        f"largest bound per list {shorts}, unlisted {rolled.unlisted}"
    )


def _roll_today(args: argparse.Namespace) -> None:
    # What the first visit after each hour pays when no cron job ran: today so far.
    from django.test import override_settings

    from lambdactr_django import days
    from lambdactr_django.stats import rollups

    took = {}
    for alias in SIDES:
        with override_settings(LAMBDACTR_DATABASE=alias):
            runs = []
            for _ in range(max(1, args.raw_repeat)):
                rollups.forget([days.today()])
                started = time.perf_counter()
                rollups.roll_hours()
                runs.append(_since(started))
            took[alias] = statistics.median(runs)
    print(f"rolling up today so far: small {took['small']:.1f} ms, large {took['large']:.1f} ms")


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


if __name__ == "__main__":
    main()
