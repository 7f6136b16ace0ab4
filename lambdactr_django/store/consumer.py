"""The broker's consumer (``lambdactr_ingest``): the stream's entries stored in batches.

One consumer group, ``GROUP``, shared by every consumer. Each batch is read,
stored in one transaction (COPY on PostgreSQL, through store/database.py),
announced with ``hits_stored``, and only then acknowledged and deleted from
the stream in one MULTI. A consumer killed at any point leaves its entries
pending; another (or the same, restarted) claims them once they have been idle
for ``LAMBDACTR_INGEST_CLAIM_SECONDS`` (XAUTOCLAIM) and stores them again:
the UUIDv7 key makes that a no-op for the rows already committed. An entry
that is not a hit, or a hit the database refuses even alone, is moved to the
``<stream>:refused`` stream and counted, never retried by itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from django.db import DatabaseError, connections

from lambdactr_django.conf import conf
from lambdactr_django.models import HeaderHit
from lambdactr_django.signals import hits_stored
from lambdactr_django.store import database, ingest
from lambdactr_django.store.rows import Record

logger = logging.getLogger(__name__)

GROUP = "lambdactr"
REFUSED_SUFFIX = ":refused"
# A consumer's blocking read: the broker's answer comes that much later than
# the socket timeout would allow, so the socket waits longer.
BLOCK_SECONDS = 1.0
# While the database or the broker is away: the wait before the next try.
RETRY_SECONDS = (0.5, 1.0, 2.0)
# After a batch smaller than a full one, the wait before the next read: a few
# hundred hits a second become batches of dozens, not transactions of one.
LINGER_SECONDS = 0.2
# --drain is for cron and catch-ups: it gives up after this many failures in a row.
DRAIN_GIVES_UP = 5
# A record without these is not a hit; one missing another column (from a
# release with fewer) is refused by the database and set aside like a bad row.
REQUIRED = frozenset({"id", "created_at", "site", "path"})


@dataclasses.dataclass
class Totals:
    stored: int = 0
    already_stored: int = 0
    refused: int = 0
    batches: int = 0
    claimed: int = 0
    retries: int = 0


@dataclasses.dataclass
class _Entry:
    id: bytes
    data: bytes
    record: Record | None


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Consumer:
    """Reads, stores and acknowledges; ``run`` until ``stop`` is set (or drained)."""

    def __init__(self, name: str | None = None, batch: int = 1000) -> None:
        url = conf.INGEST_URL
        if not url:
            raise ValueError("LAMBDACTR_INGEST_URL is not set")
        self.name = name or consumer_name()
        self.batch = batch
        self.stream = conf.INGEST_STREAM
        self.claim_ms = int(conf.INGEST_CLAIM_SECONDS * 1000)
        # Longer than a blocking read; a broker that hangs still fails in time.
        self.client = ingest.connect(url, BLOCK_SECONDS + max(conf.INGEST_TIMEOUT, 1.0))
        self.totals = Totals()
        self.stop = threading.Event()
        self._claim_from = b"0-0"
        self._own_pending = True

    def ensure_group(self) -> None:
        import redis

        try:
            self.client.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    def backlog(self) -> int:
        """Entries in the stream not yet stored (read or not)."""
        return int(self.client.xlen(self.stream))

    def run(
        self,
        *,
        drain: bool = False,
        progress: Callable[[Totals], None] | None = None,
    ) -> Totals:
        """Store batches until ``stop`` is set; with ``drain``, until nothing is left."""
        import redis

        failures = 0
        held: list[_Entry] = []
        self.ensure_group()
        while not self.stop.is_set():
            try:
                if failures:
                    # The broker may have restarted without its data: no group.
                    self.ensure_group()
                # A batch that failed is tried again first: it is this
                # consumer's, pending, and new entries can wait behind it.
                entries = held or self.take(block=not drain)
                held = entries
                if entries:
                    self.store(entries)
                    held = []
                    if progress is not None:
                        progress(self.totals)
                    if len(entries) < self.batch and not drain:
                        self.stop.wait(LINGER_SECONDS)
                elif drain:
                    break
                failures = 0
            except (redis.RedisError, *database.UNAVAILABLE) as error:
                if isinstance(error, DatabaseError) and not database.unavailable(error):
                    raise
                if drain and failures >= DRAIN_GIVES_UP:
                    raise
                # Unacknowledged and kept: tried again after the wait.
                self.totals.retries += 1
                wait = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                logger.warning("lambdactr: ingest paused %.1fs: %s", wait, error)
                connection = connections[database.beacon_alias()]
                if not connection.in_atomic_block:
                    # A connection the outage broke is replaced on the next try.
                    connection.close_if_unusable_or_obsolete()
                self.stop.wait(wait)
        return self.totals

    def take(self, *, block: bool) -> list[_Entry]:
        """The next batch: this consumer's own pending entries after a restart under
        the same name, then entries idle past the claim time, then new ones."""
        if self._own_pending:
            found = self._read("0", block=False)
            if found:
                return found
            self._own_pending = False
        next_start, claimed, *_ = self.client.xautoclaim(
            self.stream, GROUP, self.name, self.claim_ms, self._claim_from, count=self.batch
        )
        self._claim_from = next_start
        entries = [self._entry(id_, fields) for id_, fields in claimed if fields is not None]
        if entries:
            self.totals.claimed += len(entries)
            logger.info("lambdactr: claimed %d entries left by another consumer", len(entries))
            return entries
        return self._read(">", block=block)

    def _read(self, start: str, *, block: bool) -> list[_Entry]:
        answer = self.client.xreadgroup(
            GROUP,
            self.name,
            {self.stream: start},
            count=self.batch,
            block=int(BLOCK_SECONDS * 1000) if block else None,
        )
        if not answer:
            return []
        _stream, found = answer[0]
        return [self._entry(id_, fields) for id_, fields in found if fields]

    def _entry(self, id_: bytes, fields: dict[bytes, bytes]) -> _Entry:
        data = fields.get(ingest.FIELD, b"")
        record: Record | None
        try:
            record = json.loads(data)
            # The beacon's records have a key, a time, a site and a page.
            if not isinstance(record, dict) or not record.keys() >= REQUIRED:
                record = None
            else:
                uuid.UUID(record["id"])
                _created_at(record)
        except (ValueError, TypeError, AttributeError):
            record = None
        return _Entry(id=id_, data=data, record=record)

    def store(self, entries: Sequence[_Entry]) -> None:
        """Store ``entries``, then acknowledge them; raises while the database is away."""
        self._store([entry for entry in entries if entry.record is not None])
        self._refuse([entry for entry in entries if entry.record is None], "not a hit")
        pipe = self.client.pipeline(transaction=True)
        ids = [entry.id for entry in entries]
        pipe.xack(self.stream, GROUP, *ids)
        pipe.xdel(self.stream, *ids)
        pipe.execute()
        self.totals.batches += 1

    def _store(self, entries: Sequence[_Entry]) -> None:
        if not entries:
            return
        records = [entry.record for entry in entries if entry.record is not None]
        try:
            stored = database.store_new_records(records)
        except DatabaseError as error:
            if database.unavailable(error):
                raise
            if len(entries) == 1:
                self._refuse(entries, _first_line(error))
                return
            # Halved until the bad row is alone: it costs only itself.
            middle = len(entries) // 2
            self._store(entries[:middle])
            self._store(entries[middle:])
            return
        except (ValueError, TypeError, KeyError):
            if len(entries) == 1:
                self._refuse(entries, "not a hit")
                return
            middle = len(entries) // 2
            self._store(entries[:middle])
            self._store(entries[middle:])
            return
        self.totals.stored += stored
        self.totals.already_stored += len(records) - stored
        # A batch of a backlog may hold hits of days rolled up already.
        hits_stored.send(HeaderHit, created_at=[_created_at(record) for record in records])

    def _refuse(self, entries: Sequence[_Entry], reason: str) -> None:
        if not entries:
            return
        pipe = self.client.pipeline(transaction=True)
        for entry in entries:
            pipe.xadd(self.stream + REFUSED_SUFFIX, {b"h": entry.data, b"why": reason[:200]})
        pipe.execute()
        self.totals.refused += len(entries)
        logger.error(
            "lambdactr: set aside %d stream entries in %s: %s",
            len(entries),
            self.stream + REFUSED_SUFFIX,
            reason,
        )

    def close(self) -> None:
        self.client.close()


def _created_at(record: Record) -> dt.datetime:
    return dt.datetime.fromisoformat(record["created_at"])


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def persistence_warning(client: Any) -> str | None:
    """What to say when the broker keeps its stream in memory only; None if unknown."""
    import redis

    try:
        appendonly = client.config_get("appendonly").get("appendonly")
    except redis.RedisError:
        return None  # CONFIG is often disabled on managed servers.
    if appendonly in (b"yes", "yes"):
        return None
    return (
        "the broker has appendonly off: a restart of Redis loses the hits in its stream "
        "(docs/scaling.md)"
    )
