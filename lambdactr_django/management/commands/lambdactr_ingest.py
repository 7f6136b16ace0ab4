from __future__ import annotations

import signal
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lambdactr_django.conf import conf
from lambdactr_django.store import consumer, database

PROGRESS_SECONDS = 10.0


class Command(BaseCommand):
    help = (
        "Store the hits the beacon added to the broker (LAMBDACTR_INGEST_URL), in batches: "
        "COPY on PostgreSQL, one transaction each, acknowledged only after the commit. "
        "Run one or more of these beside the app servers, under a process supervisor; "
        "they share the stream through one consumer group. Safe to stop at any time "
        "(Ctrl-C or SIGTERM finishes the batch in hand; a SIGKILL leaves it pending, and "
        "another consumer claims it after LAMBDACTR_INGEST_CLAIM_SECONDS). Every hit is "
        "stored once: an entry delivered twice is skipped by its UUID. --drain stores "
        "what is there and exits, for cron or a one-off catch-up."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--drain",
            action="store_true",
            help="Exit once nothing is left to read, instead of waiting for new hits.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="Entries read and stored per transaction (default: 1000).",
        )
        parser.add_argument(
            "--consumer",
            help="This consumer's name in the group (default: host name and process id). "
            "A fixed name picks up its own pending entries at once after a restart.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not conf.INGEST_URL:
            raise CommandError("LAMBDACTR_INGEST_URL is not set: there is no broker to read.")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        import redis

        reader = consumer.Consumer(name=options["consumer"], batch=options["batch_size"])
        self._last = time.monotonic()
        self._started = self._last
        previous = {
            number: signal.signal(number, self._stop(reader))
            for number in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            reader.ensure_group()
            warning = consumer.persistence_warning(reader.client)
            if warning:
                self.stderr.write(f"Warning: {warning}.")
            self.stdout.write(
                f"Consuming {conf.INGEST_STREAM} as {reader.name} "
                f"({reader.backlog():,} hits waiting)."
            )
            totals = reader.run(drain=options["drain"], progress=self._progress)
        except redis.RedisError as error:
            raise CommandError(f"The broker is unreachable: {error}") from error
        except database.UNAVAILABLE as error:
            # Only --drain gives up; the batch in hand stays pending for the next run.
            raise CommandError(f"The database is unavailable: {error}") from error
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
            reader.close()
        self.stdout.write(
            self.style.SUCCESS(
                f"Stored {totals.stored} hits in {totals.batches} batches; "
                f"{totals.already_stored} were already stored, {totals.claimed} claimed from "
                f"other consumers, {totals.refused} set aside in "
                f"{conf.INGEST_STREAM}{consumer.REFUSED_SUFFIX}."
            )
        )

    def _stop(self, reader: consumer.Consumer) -> Any:
        def handler(number: int, frame: FrameType | None) -> None:
            self.stdout.write("Stopping after the batch in hand…")
            reader.stop.set()

        return handler

    def _progress(self, totals: consumer.Totals) -> None:
        now = time.monotonic()
        if now - self._last < PROGRESS_SECONDS:
            return
        self._last = now
        rate = totals.stored / max(now - self._started, 1e-9)
        self.stdout.write(
            f"  {totals.stored:,} hits stored ({rate:,.0f}/s), {totals.already_stored} "
            f"already stored, {totals.refused} set aside"
        )
