from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import router, transaction

from lambdactr_django import days
from lambdactr_django.models import HeaderHit
from lambdactr_django.stats import rollups
from lambdactr_django.store import database
from lambdactr_django.synthetic.generator import Generator

MAX_SEED_DAYS = 36_500


class Command(BaseCommand):
    help = (
        "Fill the hits table with N realistic synthetic hits, for trying the statistics, "
        "the admin and queries at scale. N counts every row: about three quarters page "
        "views and one quarter visitor-days, over several sites with a long tail of paths, "
        "real user agents (bots and prefetches included), labelled exactly as capture "
        "labels real hits, spread over the last --days days. Loads with COPY on "
        "PostgreSQL, bulk INSERTs elsewhere, one transaction per batch: stop it at any "
        "time and the finished batches stay. Refuses to run with DEBUG off unless --yes "
        "is given, so a production database is not filled with fake statistics by mistake."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--hits",
            type=int,
            required=True,
            help="Rows to create, views and visitor-days together (required).",
        )
        parser.add_argument("--sites", type=int, default=20, help="Sites (default: 20).")
        parser.add_argument(
            "--days", type=int, default=365, help="Spread over the last N days (default: 365)."
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=1,
            help="Random seed; the same seed makes the same sites, paths and user agents "
            "(default: 1).",
        )
        parser.add_argument(
            "--batch", type=int, default=50000, help="Rows per transaction (default: 50000)."
        )
        parser.add_argument(
            "--yes",
            action="store_true",
            help="Run even with DEBUG off: the hits are fake and count in every statistic.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        total, batch = options["hits"], options["batch"]
        if min(total, options["sites"], options["days"], batch) < 1:
            raise CommandError("--hits, --sites, --days and --batch must be at least 1.")
        if options["days"] > MAX_SEED_DAYS:
            raise CommandError(f"--days must be at most {MAX_SEED_DAYS} (100 years).")
        if not settings.DEBUG and not options["yes"]:
            raise CommandError(
                "DEBUG is off: this may be a production database, and fake hits would count "
                "in its statistics. Pass --yes to seed it all the same."
            )
        alias = router.db_for_write(HeaderHit) or "default"
        generator = Generator(options["seed"], options["sites"], options["days"])
        done = 0
        started = time.monotonic()
        try:
            while done < total:
                size = min(batch, total - done)
                with transaction.atomic(using=alias):
                    database.load_rows(alias, generator.rows(size))
                done += size
                elapsed = time.monotonic() - started
                self.stdout.write(
                    f"Seeded {done:,} of {total:,} hits ({done / max(elapsed, 1e-9):,.0f} rows/s)"
                )
        except KeyboardInterrupt:
            raise CommandError(
                f"Interrupted: {done:,} hits were seeded and stay; the batch in progress "
                "was rolled back."
            ) from None
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {done:,} hits on database {alias!r} in {elapsed:.1f} s "
                f"({done / max(elapsed, 1e-9):,.0f} rows/s)."
            )
        )
        self._roll_up(generator)

    def _roll_up(self, generator: Generator) -> None:
        # The hits went into past days: roll those up (again), as lambdactr_rollup would.
        first = days.day_of(generator.now - dt.timedelta(days=generator.days))
        count = (days.day_of(generator.now) - first).days + 1
        started = time.monotonic()
        try:
            rolled = rollups.roll(
                [first + dt.timedelta(days=n) for n in range(count)], self._rolled
            )
            rollups.roll_months(first)
            rollups.tidy()
        except KeyboardInterrupt:
            raise CommandError(
                "Interrupted while rolling up: the hits stay, and the days not rolled up yet "
                "are counted from the raw hits until lambdactr_rollup runs."
            ) from None
        self.stdout.write(
            self.style.SUCCESS(f"Rolled up {rolled} days in {time.monotonic() - started:.1f} s.")
        )

    def _rolled(self, day: dt.date, done: int, total: int) -> None:
        if done % 30 == 0 or done == total:
            self.stdout.write(f"Rolled up {done} of {total} days")
