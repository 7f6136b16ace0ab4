from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import router, transaction

from lambdactr_django import days
from lambdactr_django.conf import conf
from lambdactr_django.models import HeaderHit
from lambdactr_django.stats import rollups
from lambdactr_django.store import partitions


class Command(BaseCommand):
    help = (
        "Delete hits older than N days: today and the N-1 days before it are kept (days in "
        "LAMBDACTR_TIME_ZONE or TIME_ZONE). N defaults to LAMBDACTR_RETENTION_DAYS. Deletes "
        "in batches, each committed on its own, so it can be stopped at any time and run "
        "again to finish; run it daily from cron or a scheduler."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, help="Days to keep (default: LAMBDACTR_RETENTION_DAYS)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only say how many hits would be deleted."
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="Hits deleted per statement (default: 1000).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        keep = options["days"] if options["days"] is not None else conf.RETENTION_DAYS
        if keep is None:
            raise CommandError("Pass --days N or set LAMBDACTR_RETENTION_DAYS.")
        if keep < 1 or options["batch_size"] < 1:
            raise CommandError("--days and --batch-size must be at least 1.")
        # last_days keeps a huge --days inside the calendar rather than overflow it.
        cutoff = days.start_of(days.last_days(keep)[0])
        old = HeaderHit.objects.filter(created_at__lt=cutoff)
        if options["dry_run"]:
            total = old.count()
            self.stdout.write(f"Would delete {total} hits from before {cutoff:%Y-%m-%d %H:%M %Z}.")
            return
        alias = router.db_for_write(HeaderHit) or "default"
        # Whole months of a partitioned table first: a DROP, however many rows.
        try:
            for name, rows in partitions.drop_before(cutoff, _forgetter(alias), alias):
                self.stdout.write(f"Dropped partition {name} (about {rows} hits)")
        except partitions.PartitionBusy as busy:
            # Not deleted by rows instead: for a whole month that would take hours.
            raise CommandError(
                f"Partition {busy} could not be dropped: the hit table stayed locked by "
                "another transaction (a long query?). Run lambdactr_prune again later."
            ) from busy
        total = old.count()
        deleted = 0
        try:
            while True:
                # Oldest first, so a batch spans a day or two whose rollups go with
                # it in the same transaction: the statistics read those days raw.
                batch = list(
                    old.order_by("created_at").values_list("pk", "created_at")[
                        : options["batch_size"]
                    ]
                )
                if not batch:
                    break
                with transaction.atomic(using=alias):
                    rollups.forget({days.day_of(when) for _, when in batch}, using=alias)
                    count, _ = HeaderHit.objects.filter(pk__in=[pk for pk, _ in batch]).delete()
                deleted += count
                self.stdout.write(f"Deleted {deleted} of {total} hits")
        except KeyboardInterrupt:
            raise CommandError(
                f"Interrupted after deleting {deleted} hits; run again to delete the rest."
            ) from None
        self.stdout.write(
            self.style.SUCCESS(f"Deleted {deleted} hits from before {cutoff:%Y-%m-%d %H:%M %Z}.")
        )


def _forgetter(alias: str) -> Callable[[dt.datetime, dt.datetime], None]:
    def forget(first: dt.datetime, last: dt.datetime) -> None:
        day, end = days.day_of(first), days.day_of(last)
        span = []
        while day <= end:
            span.append(day)
            day += dt.timedelta(days=1)
        rollups.forget(span, using=alias)

    return forget
