from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lambdactr_django import days
from lambdactr_django.stats import export, selection

FORMATS = {"csv": export.csv_lines, "jsonl": export.json_lines}
PROGRESS_EVERY = 10_000


class Command(BaseCommand):
    help = (
        "Write hits to a file as CSV or JSON lines, the columns of the admin's download, "
        "row by row with flat memory and no server timeout to cut it short. The file is "
        "written as FILE.partial and renamed to FILE only once complete, so an interrupted "
        "export never looks finished. Days are in LAMBDACTR_TIME_ZONE or TIME_ZONE."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("output", help="The file to write.")
        parser.add_argument(
            "--format", dest="output_format", choices=sorted(FORMATS), default="csv"
        )
        parser.add_argument("--site", help="Only this site (host name, as the hit list shows).")
        parser.add_argument("--since", help="First day, YYYY-MM-DD (default: the first hit).")
        parser.add_argument("--until", help="Last day, YYYY-MM-DD (default: today).")
        parser.add_argument(
            "--signature",
            choices=["valid", "invalid", "all"],
            default="all",
            help="Hits with a valid signature, without one, or all (default: all).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        start, end = _day(options["since"], "--since"), _day(options["until"], "--until")
        verified = {"valid": True, "invalid": False, "all": None}[options["signature"]]
        hits = selection.select(options["site"], start, end, verified=verified).order_by(
            "created_at"
        )
        target = Path(options["output"])
        partial = target.with_name(target.name + ".partial")
        lines = FORMATS[options["output_format"]](self._counted(export.rows(hits)))
        started = time.monotonic()
        self._written = 0
        try:
            with open(partial, "w", encoding="utf-8", newline="") as file:
                for line in lines:
                    file.write(line)
        except KeyboardInterrupt:
            raise CommandError(
                f"Interrupted after {self._written} hits; {partial} is incomplete."
            ) from None
        os.replace(partial, target)
        self.stdout.write(
            f"Wrote {self._written} hits to {target} in {time.monotonic() - started:.1f}s."
        )

    def _counted(self, rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for row in rows:
            yield row
            self._written += 1
            if self._written % PROGRESS_EVERY == 0:
                self.stdout.write(f"  {self._written} hits written")


def _day(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} should be a day, YYYY-MM-DD, not {value!r}.") from None
    return days.clamp(day)
