"""Broker ingest (``LAMBDACTR_INGEST_URL``): the beacon appends each hit to a Redis Stream.

Each hit becomes its record (UUID and time made now, the journal's JSON line)
and is added to the stream with one round trip, bounded by
``LAMBDACTR_INGEST_TIMEOUT``; ``lambdactr_ingest`` (store/consumer.py) stores
it. The beacon never waits on the database. The stream is bounded: once it
holds ``LAMBDACTR_INGEST_MAX_LENGTH`` entries not yet stored, new hits are
refused by the script below (never trimmed: ``XADD MAXLEN`` would drop the
oldest hits silently) and kept in the local spool, counted. A broker that is
unreachable or answers an error gets the same treatment, and is left alone for
``BACKOFF_SECONDS``. The spool is stored in the database by the background
replay (or ``lambdactr_replay``) with the hit's own key, so a hit whose XADD
timed out after the broker took it is still stored once.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from lambdactr_django.conf import conf
from lambdactr_django.eventcount import EventCount
from lambdactr_django.hits import Hit
from lambdactr_django.store import replay, rows, spool
from lambdactr_django.store.rows import Record

logger = logging.getLogger(__name__)

# The entry's one field: the record as its journal line.
FIELD = b"h"
# After a failure the broker is not asked again for this long: a hung broker
# costs one timeout per process and second, not one per hit.
BACKOFF_SECONDS = 2.0
# Refuse rather than trim: XLEN counts the entries not yet stored, since the
# consumer deletes what it has acknowledged.
ADD_IF_ROOM = """
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then return false end
return redis.call('XADD', KEYS[1], '*', 'h', ARGV[2])
"""

unreachable = EventCount(
    "lambdactr: broker unreachable or failing, spooled %d hits locally (%d since start)"
)
overflowed = EventCount(
    "lambdactr: stream full (LAMBDACTR_INGEST_MAX_LENGTH), spooled %d hits locally "
    "(%d since start)",
    level=logging.ERROR,
)


class _Producer:
    def __init__(self, url: str) -> None:
        self.pid = os.getpid()
        self.url = url
        self.client = connect(url, conf.INGEST_TIMEOUT)
        self.add = self.client.register_script(ADD_IF_ROOM)
        self.down_until = 0.0


_producer: _Producer | None = None
_producer_lock = threading.Lock()


def enabled() -> bool:
    return bool(conf.INGEST_URL)


def connect(url: str, timeout: float) -> Any:
    """A Redis client that gives up after ``timeout`` seconds and never retries by itself."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        retry_on_timeout=False,
        health_check_interval=0,
    )


def _current() -> _Producer:
    global _producer
    url = conf.INGEST_URL
    assert url
    state = _producer
    if state is not None and state.pid == os.getpid() and state.url == url:
        return state
    with _producer_lock:
        # A forked worker makes its own connections, as does a changed setting.
        if _producer is None or _producer.pid != os.getpid() or _producer.url != url:
            _producer = _Producer(url)
        return _producer


def warm_up(*, connect: bool = False) -> None:
    """Build the client; ``connect``: also open its connection and load the script."""
    state = _current()
    if connect:
        state.client.ping()
        state.client.script_load(ADD_IF_ROOM)


def save(hit: Hit) -> None:
    """Add ``hit`` to the stream; keep it in the spool if the broker cannot take it."""
    record = rows.new_record(hit)
    if add(record):
        # The spool may hold hits of an earlier outage: a thread stores them.
        replay.replay_if_due()
        return
    spool.append([rows.row_of(record)])
    replay.replay_if_due()


def add(record: Record) -> bool:
    """True when the broker took ``record``; False (counted) when it is to be spooled."""
    import redis

    state = _current()
    if time.monotonic() < state.down_until:
        unreachable.add()
        return False
    try:
        taken = state.add(
            keys=[conf.INGEST_STREAM], args=[conf.INGEST_MAX_LENGTH, rows.lines([record])]
        )
    except redis.RedisError as error:
        state.down_until = time.monotonic() + BACKOFF_SECONDS
        logger.info(
            "lambdactr: XADD failed, the broker is left alone for %gs: %r", BACKOFF_SECONDS, error
        )
        unreachable.add()
        return False
    if taken is None:
        overflowed.add()
        return False
    return True


def reset() -> None:
    """Forget this process's connection (tests, and a changed setting)."""
    global _producer
    with _producer_lock:
        if _producer is not None and _producer.pid == os.getpid():
            _producer.client.close()
        _producer = None
