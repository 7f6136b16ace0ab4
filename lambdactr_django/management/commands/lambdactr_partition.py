from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from lambdactr_django.store import database, partitions

PROGRESS_SECONDS = 5.0


class Command(BaseCommand):
    help = (
        "Monthly partitions of the hit table, on PostgreSQL (docs/scaling.md). On a "
        "partitioned table: create this month's partition and the next --months ones "
        "(run it daily from cron; a month without one still takes hits, in the DEFAULT "
        "partition, moved into the month's when it is made). With --convert: turn the "
        "existing hit table into a partitioned one, copying it in batches while the site "
        "runs, then swapping the two under a lock held for the last batch and a check of "
        "the counts. Safe to interrupt: run --convert again to go on, or --abort to drop "
        "what was built. Do not run lambdactr_prune or lambdactr_reclassify meanwhile."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--months",
            type=int,
            default=3,
            help="Months ahead to have a partition for (default: 3).",
        )
        parser.add_argument("--convert", action="store_true", help="Partition a table that is not.")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=50_000,
            help="Hits copied per transaction by --convert (default: 50000).",
        )
        parser.add_argument(
            "--abort",
            action="store_true",
            help="Drop the partitioned table an interrupted --convert was building.",
        )
        parser.add_argument(
            "--list", action="store_true", help="List the monthly partitions and stop."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        alias = database.beacon_alias()
        if not partitions.supported(alias):
            raise CommandError("Partitions are for PostgreSQL; this database is not.")
        if options["months"] < 0 or options["batch_size"] < 1:
            raise CommandError("--months must be 0 or more, --batch-size at least 1.")
        if options["abort"]:
            partitions.abort_conversion(alias)
            self.stdout.write("Dropped the partitioned table being built, if there was one.")
            return
        if options["convert"]:
            self._convert(alias, options["batch_size"], options["months"])
        if options["list"]:
            for partition in partitions.partitions(alias):
                self.stdout.write(f"{partition.name}  {partition.month:%Y-%m}")
            return
        if not partitions.is_partitioned(alias):
            self.stdout.write(
                "The hit table is not partitioned; lambdactr_partition --convert does it."
            )
            return
        created = partitions.create_ahead(options["months"], alias)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {len(created)} partitions"
                + (f": {', '.join(created)}." if created else ".")
            )
        )

    def _convert(self, alias: str, batch: int, months: int) -> None:
        if partitions.is_partitioned(alias):
            self.stdout.write("The hit table is partitioned already.")
            return
        partitions.start_conversion(alias, months)
        total = _estimate(alias)
        self.stdout.write(f"Copying about {total:,} hits into {partitions.BUILDING}…")
        copied = 0
        started = last = time.monotonic()
        try:
            while count := partitions.copy_batch(batch, alias):
                copied += count
                if time.monotonic() - last >= PROGRESS_SECONDS:
                    last = time.monotonic()
                    rate = copied / max(last - started, 1e-9)
                    self.stdout.write(f"  {copied:,} of about {total:,} ({rate:,.0f}/s)")
            self.stdout.write("Swapping the tables (the hit table is locked meanwhile)…")
            rows = partitions.finish_conversion(alias)
        except KeyboardInterrupt:
            raise CommandError(
                f"Interrupted after copying {copied:,} hits; --convert goes on from there, "
                "--abort drops the copy."
            ) from None
        except partitions.ConversionError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"The hit table is partitioned by month: {rows:,} hits in "
                f"{len(partitions.partitions(alias))} monthly partitions and the default one."
            )
        )


def _estimate(alias: str) -> int:
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE relname = %s",
            [partitions.TABLE],
        )
        found = cursor.fetchone()
    return int(found[0]) if found else 0
