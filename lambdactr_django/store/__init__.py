"""Storage: ``save(hit)`` is the one door the beacon uses.

Behind it, by ``LAMBDACTR_INGEST_URL`` and ``LAMBDACTR_BUFFER_SECONDS``:

* broker: each hit appended to a Redis Stream, stored by ``lambdactr_ingest``;

* durable (the default): each hit committed before the beacon answers; the
  outage spool keeps it while the database is away, and replay stores it later;
* buffered: each hit journaled to local disk now and stored in batches by a
  flusher thread, off the request path.

``save_dated(hits)`` is the other door, for hits of the past with keys and times
of their own (lambdactr_import_log's, from access logs): in batches, each once.

rows makes the row and its record, database is the only module that talks to
the database, spool and replay keep and restore what could not be stored.
Storage never calls statistics code: it announces hits stored late with
``lambdactr_django.signals.hits_stored``.
"""

from __future__ import annotations

from collections.abc import Sequence

from lambdactr_django.hits import Hit
from lambdactr_django.store import buffer, database, durable, history, ingest, replay, rows
from lambdactr_django.store.history import Dated

__all__ = ["Dated", "save", "save_dated", "warm_up", "warm_up_worker"]


def save(hit: Hit) -> None:
    """Store ``hit`` the way the settings ask: now, journaled for the next batch, or
    handed to the broker."""
    if ingest.enabled():
        ingest.save(hit)
    elif buffer.enabled():
        buffer.save(hit)
    else:
        durable.save(hit)


def save_dated(hits: Sequence[Dated]) -> int:
    """Store hits with the keys and times they came with, skipping keys stored
    already, in one transaction; returns how many were new."""
    return history.save(hits)


def warm_up() -> None:
    """Build now what the first ``save()`` of a process would: the INSERT and a row's
    values. Nothing is written, no connection opened, no thread started."""
    database.prepare(
        rows.new_values(Hit(site="", path="", referrer="", verified=False, user_agent=""))
    )
    if ingest.enabled():
        # Imports redis-py and builds the client; it connects on the first hit.
        ingest.warm_up()


def warm_up_worker(*, keep_connection: bool = True) -> None:
    """In a worker process before its first hit: open what ``save()`` would open then.

    Durable: connect to the beacon's database and send its INSERT once, rolled
    back, so that the server has read the table and its indexes (nothing is
    stored); the connection is kept for this thread's first hit unless
    ``keep_connection`` is False. Buffered: start the flusher thread and open
    the journal. Broker: connect to it. Raises what connecting raises.
    """
    if ingest.enabled():
        ingest.warm_up(connect=True)
    elif buffer.enabled():
        buffer.warm_up()
    else:
        values = rows.new_values(Hit(site="", path="", referrer="", verified=False, user_agent=""))
        database.try_insert(values, keep_connection=keep_connection)
        # What the first stored hit would do: look for hits of an outage.
        replay.replay_if_due()
