"""Read access logs, plain, gzipped or from stdin, and store their page views in batches.

A file is read a line at a time and stored a batch at a time, so memory stays
bounded whatever its length; each batch is one transaction, so an interrupted
import keeps what it committed, and (the keys being the lines' own) running it
again stores only the rest.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast

from lambdactr_django import store
from lambdactr_django.logs.formats import Format
from lambdactr_django.logs.keys import Keys
from lambdactr_django.logs.pages import Pages, Skip

GZIP_MAGIC = b"\x1f\x8b"
STDIN = "-"
# How often progress is reported, at most.
PROGRESS_SECONDS = 1.0


@dataclass
class Progress:
    """What an import has done so far, over all its files."""

    read: int = 0
    # Page views found, and how many of them were not stored before.
    kept: int = 0
    stored: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    started: float = field(default_factory=time.monotonic)

    def per_second(self) -> float:
        return self.read / max(time.monotonic() - self.started, 1e-9)

    def skips(self) -> list[tuple[str, int]]:
        return [(reason, self.skipped[reason]) for reason in Skip.ORDER if self.skipped[reason]]


@contextlib.contextmanager
def opened(name: str, stdin: IO[bytes]) -> Iterator[IO[bytes]]:
    """The lines of file ``name`` ("-": ``stdin``), gunzipped when they start as gzip does."""
    with contextlib.ExitStack() as stack:
        raw: IO[bytes] = stdin if name == STDIN else stack.enter_context(Path(name).open("rb"))
        # By the magic bytes, not the name: a rotated access.log.1 may be gzipped,
        # and so may what is piped in.
        peek = getattr(raw, "peek", None)
        head = peek(2)[:2] if peek is not None else b""
        if peek is None:
            head = raw.read(2)
            raw.seek(0)
        if head == GZIP_MAGIC:
            gunzipped = gzip.GzipFile(fileobj=raw, mode="rb")
            stack.callback(gunzipped.close)
            yield cast("IO[bytes]", gunzipped)
        else:
            yield raw


class Importer:
    """One import: a format, a site (or the log's vhost), a batch size, and its progress."""

    def __init__(
        self,
        log_format: Format,
        pages: Pages,
        *,
        batch_size: int = 5000,
        report: Callable[[str, Progress], None] | None = None,
    ) -> None:
        self.format = log_format
        self.pages = pages
        self.batch_size = batch_size
        self.report = report
        self.progress = Progress()

    def read(self, name: str, lines: IO[bytes]) -> None:
        """Import every page view of one file's ``lines``."""
        progress = self.progress
        skipped = progress.skipped
        parse, skip_reason = self.format.parse, self.pages.skip_reason
        keys = Keys(self.pages.site or "")
        batch: list[store.Dated] = []
        reported = time.monotonic()
        for raw in lines:
            progress.read += 1
            if (
                not progress.read % 8192
                and self.report is not None
                and time.monotonic() - reported >= PROGRESS_SECONDS
            ):
                reported = time.monotonic()
                self.report(name, progress)
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            entry = parse(line)
            if entry is None:
                skipped[Skip.UNREADABLE] += 1
                continue
            reason = skip_reason(entry)
            if reason:
                skipped[reason] += 1
                continue
            batch.append(
                store.Dated(keys.key(line, entry), entry.created_at, self.pages.hit(entry))
            )
            if len(batch) >= self.batch_size:
                self._store(batch)
                batch = []
        self._store(batch)
        if self.report is not None:
            self.report(name, progress)

    def _store(self, batch: list[store.Dated]) -> None:
        if not batch:
            return
        progress = self.progress
        earliest = min(dated.created_at for dated in batch)
        latest = max(dated.created_at for dated in batch)
        progress.stored += store.save_dated(batch)
        progress.kept += len(batch)
        progress.first = earliest if progress.first is None else min(progress.first, earliest)
        progress.last = latest if progress.last is None else max(progress.last, latest)
