from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lambdactr_django import days
from lambdactr_django.logs.formats import NAMED, Format, FormatError
from lambdactr_django.logs.importer import STDIN, Importer, Progress, opened
from lambdactr_django.logs.pages import Pages
from lambdactr_django.stats import rollups


class Command(BaseCommand):
    help = (
        "Import the page views of web server access logs (nginx, Apache) as hits, with "
        "the log's own times: the history from before the counter, or a site that "
        "cannot embed it. Keeps GETs answered 2xx for HTML pages; skips assets, other "
        "statuses and methods and the counter's own URLs, and counts each reason. "
        "Labels bots by user agent with the beacon's rules. Stores no client address. "
        "Imported hits are loaded as 'log' and unverified, so the statistics show them "
        "with the Signature filter at 'All'. Reads gzipped files (by their first bytes) "
        "and '-' for stdin. Importing the same lines again adds nothing: stop it at any "
        "time and run it again. See docs/import.md."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help="Log files; - for stdin.")
        parser.add_argument(
            "--format",
            default="combined",
            help=f"One of {', '.join(sorted(NAMED))} (default: combined), or an nginx "
            "log_format pattern such as '$remote_addr - $remote_user [$time_local] "
            '"$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"\'.',
        )
        parser.add_argument(
            "--site",
            help="The site the hits are for, as the counter names it (example.com). Required "
            "unless the format has the host ($host, $server_name, vhost_combined's %%v); "
            "given, it overrides the log's.",
        )
        parser.add_argument(
            "--exclude",
            action="append",
            default=[],
            metavar="PREFIX",
            help="Skip paths starting with PREFIX (e.g. /admin/); may be given again.",
        )
        parser.add_argument(
            "--before",
            type=dt.date.fromisoformat,
            metavar="YYYY-MM-DD",
            help="Skip lines from this day on (in the site's time zone): the day the counter "
            "was installed, so that no page view is counted twice.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=5000,
            help="Page views stored per transaction (default: 5000).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            log_format = Format(options["format"])
        except FormatError as error:
            raise CommandError(f"--format: {error}") from None
        site = options["site"]
        if not site and not log_format.has_host:
            raise CommandError(
                "--site is required: the format has no host ($host or $server_name)."
            )
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        files: list[str] = options["files"]
        missing = [name for name in files if name != STDIN and not Path(name).is_file()]
        if missing:
            raise CommandError(f"No such file: {', '.join(missing)}")
        stdin: IO[bytes] = options.get("stdin") or sys.stdin.buffer
        before = options["before"]
        pages = Pages(
            site,
            user_agent_logged=log_format.has_user_agent,
            exclude=options["exclude"],
            before=days.start_of(before) if before is not None else None,
        )
        importer = Importer(
            log_format, pages, batch_size=options["batch_size"], report=self._report
        )
        try:
            for name in files:
                with opened(name, stdin) as lines:
                    importer.read(name, lines)
        except KeyboardInterrupt:
            progress = importer.progress
            raise CommandError(
                f"Interrupted after {progress.read:,} lines: {progress.stored:,} new hits "
                "were stored and stay; the batch in progress was rolled back. Run the same "
                "command again to go on: the lines stored already are skipped by their keys."
            ) from None
        except (OSError, EOFError) as error:
            raise CommandError(f"Could not read the log: {error}") from None
        self._summary(importer.progress)
        self._roll_up(importer.progress)

    def _report(self, name: str, progress: Progress) -> None:
        self.stdout.write(
            f"{name}: {progress.read:,} lines read, {progress.kept:,} page views "
            f"({progress.stored:,} new), {progress.skipped.total():,} skipped, "
            f"{progress.per_second():,.0f} lines/s"
        )

    def _summary(self, progress: Progress) -> None:
        elapsed = time.monotonic() - progress.started
        old = progress.kept - progress.stored
        self.stdout.write(
            self.style.SUCCESS(
                f"Read {progress.read:,} lines in {elapsed:.1f} s "
                f"({progress.per_second():,.0f} lines/s): {progress.kept:,} page views, "
                f"{progress.stored:,} new, {old:,} stored before."
            )
        )
        skips = progress.skips()
        if skips:
            self.stdout.write(f"Skipped {progress.skipped.total():,} lines:")
            width = max(len(reason) for reason, _count in skips)
            for reason, count in skips:
                self.stdout.write(f"  {reason:<{width}}  {count:>12,}")
        if progress.kept:
            self.stdout.write(
                "Imported hits are unverified: the statistics and the hit list show them "
                "with the Signature filter at 'All' (or 'Forged, broken or imported'), and "
                "the hit list's 'Loaded as: page, in an access log' picks them alone."
            )

    def _roll_up(self, progress: Progress) -> None:
        if progress.first is None or progress.last is None:
            return
        # Days rolled up already followed each batch (the store announces them);
        # the rest of the imported days are rolled up now, as lambdactr_rollup would.
        started = time.monotonic()
        try:
            rolled = rollups.catch_up(days.day_of(progress.first), days.day_of(progress.last))
        except KeyboardInterrupt:
            raise CommandError(
                "Interrupted while rolling up: the hits stay, and the days not rolled up yet "
                "are counted from the raw hits until lambdactr_rollup runs."
            ) from None
        self.stdout.write(f"Rolled up {rolled} days in {time.monotonic() - started:.1f} s.")
