from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lambdactr_django import days
from lambdactr_django.stats import rollups

# Days (or months) rolled in one run after which the table's statistics are refreshed.
TIDY_AFTER = 7


class Command(BaseCommand):
    help = (
        "Roll up past days for the statistics: count each day's hits by page, referrer "
        "host, browser, OS, device and bot reason into the rollup table, so the statistics "
        "read a few rows per day instead of every hit. A day is rolled up once it has ended "
        "(in LAMBDACTR_TIME_ZONE or TIME_ZONE) and ten minutes have passed; days already "
        "rolled up are skipped unless --rebuild is given. Days rolled up in another time "
        "zone are dropped and rolled up again. Today is rolled up so far, up to its latest "
        "whole hour (ten minutes after it), so the statistics read at most the current "
        "hour's hits raw. Each day is one transaction: stop it at any time and run it again "
        "to go on. Run it from cron every hour, or at least shortly after midnight; the "
        "statistics page also rolls up two missing days and today so far by itself on each "
        "visit, and counts any hour not rolled up yet from the raw hits, so its numbers are "
        "right either way."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            help="Only the last N days, today included (default: every day with hits).",
        )
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="Roll up days already rolled up again, too.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] is not None and options["days"] < 1:
            raise CommandError("--days must be at least 1.")
        start = days.last_days(options["days"])[0] if options["days"] else None
        dropped = rollups.drop_other_zones()
        if dropped:
            self.stdout.write(f"Dropped {dropped} days rolled up in another time zone")
        if options["rebuild"] and start is None:
            rollups.forget_all()
        elif options["rebuild"] and start is not None:
            rollups.forget(_since(start))
        todo = rollups.pending(start)
        self.stdout.write(f"{len(todo)} days to roll up")
        try:
            rollups.roll(todo, self._progress)
            today = rollups.roll_hours()
            months = rollups.roll_months(start)
            if options["rebuild"] or len(todo) + months > TIDY_AFTER:
                rollups.tidy(vacuum=bool(options["rebuild"]))
        except KeyboardInterrupt:
            raise CommandError(
                "Interrupted; the days rolled up so far stay. Run again to go on."
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Rolled up {len(todo)} days, {today} not over yet so far, "
                f"and {months} whole months."
            )
        )

    def _progress(self, day: dt.date, done: int, total: int) -> None:
        self.stdout.write(f"Rolled up {day} ({done} of {total})")


def _since(start: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=n) for n in range((days.today() - start).days + 1)]
