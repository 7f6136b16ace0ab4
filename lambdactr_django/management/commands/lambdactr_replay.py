from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from lambdactr_django.store import buffer, database, replay, spool


class Command(BaseCommand):
    help = (
        "Store the hits spooled in LAMBDACTR_SPOOL_DIR while the database was unavailable. "
        "Each hit is stored once however often this runs: a hit already in the database "
        "(same UUID) is skipped. Safe to interrupt and run again. The beacon also does "
        "this by itself on its first successful write after an outage. With "
        "LAMBDACTR_BUFFER_SECONDS, the journals of stopped or killed processes are "
        "replayed too; those of running ones are left to them."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if spool.spool_dir() is None:
            raise CommandError("LAMBDACTR_SPOOL_DIR is not set: there is no spool to replay.")
        # Whatever the setting says now: a journal may date from when it was on.
        adopted = buffer.adopt_orphans()
        if adopted:
            self.stdout.write(f"Replaying {adopted} journals left by stopped processes.")
        try:
            result = replay.replay(wait=True, progress=self._progress)
        except database.UNAVAILABLE as error:
            raise CommandError(
                f"The database is still unavailable ({error}); the spool is kept."
            ) from error
        assert result is not None  # wait=True always gets the lock
        self.stdout.write(
            f"Stored {result.stored} spooled hits; {result.already_stored} were already "
            f"stored, {result.unreadable} spool lines were unreadable (torn by a crash), "
            f"{result.rejected} rows were refused by the database."
        )

    def _progress(self, result: replay.ReplayResult) -> None:
        done = result.stored + result.already_stored + result.rejected
        self.stdout.write(f"  {done} hits replayed so far")
