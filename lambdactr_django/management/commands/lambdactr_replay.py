from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lambdactr_django.store import buffer, database, replay, spool


class Command(BaseCommand):
    help = (
        "Store the hits spooled in LAMBDACTR_SPOOL_DIR while the database was unavailable. "
        "Each hit is stored once however often this runs: a hit already in the database "
        "(same UUID) is skipped. Safe to interrupt and run again. The beacon also does "
        "this by itself, in the background, after its first successful write following "
        "an outage. With LAMBDACTR_BUFFER_SECONDS, the journals of stopped or killed "
        "processes are replayed too; those of running ones are left to them. Hits the "
        "database refuses, or that cannot be stored within LAMBDACTR_REPLAY_TIMEOUT even "
        "alone, are set aside in quarantine.jsonl in the spool directory and reported; "
        "--retry-quarantined tries them again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--retry-quarantined",
            action="store_true",
            help="Replay the hits set aside by earlier replays too (quarantine.jsonl).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory = spool.spool_dir()
        if directory is None:
            raise CommandError("LAMBDACTR_SPOOL_DIR is not set: there is no spool to replay.")
        quarantine = directory / spool.QUARANTINE_FILE
        if options["retry_quarantined"] and quarantine.exists():
            # Handed to the replay like any spool file; what fails again comes back.
            os.rename(quarantine, spool.handover(directory, "quarantine"))
        # Whatever the setting says now: a journal may date from when it was on.
        adopted = buffer.adopt_orphans()
        if adopted:
            self.stdout.write(f"Replaying {adopted} journals left by stopped processes.")
        total = spool.spool_size(directory)
        self._total = total
        self.stdout.write(f"Replaying {total:,} bytes of spooled hits.")
        try:
            result = replay.replay(wait=True, progress=self._progress)
        except database.UNAVAILABLE as error:
            raise CommandError(
                f"The database is still unavailable or busy ({error}); the spool is kept."
            ) from error
        assert result is not None  # wait=True always gets the lock
        self.stdout.write(
            f"Stored {result.stored} spooled hits; {result.already_stored} were already "
            f"stored, {result.unreadable} spool lines were unreadable (torn by a crash), "
            f"{result.quarantined} hits were set aside."
        )
        if result.quarantined:
            self.stdout.write(
                f"Set aside {result.quarantined} hits the database refused or could not "
                f"store in time, in {quarantine} (see the log for why); "
                "--retry-quarantined tries them again."
            )

    def _progress(self, result: replay.ReplayResult) -> None:
        done = result.stored + result.already_stored + result.quarantined
        share = f" ({100 * result.bytes_done // self._total}%)" if self._total else ""
        self.stdout.write(
            f"  {done} hits replayed so far{share}, {result.quarantined} set aside",
        )
