"""Group commit: the durable hits one process has in flight share a transaction.

A threaded server (gunicorn's gthread workers, a WSGI server's thread pool)
answers several hits of one process at once. Committed one by one, each pays
its own round trip, its own transaction and its own WAL flush, and waits for
the others' (docs/fast-path.md, "Group commit"). Here the first hit to find
no commit under way leads a group: it takes every hit waiting behind it, up
to ``LARGEST``, inserts them in one transaction (one round trip on
PostgreSQL) and gives each its outcome. Hits that come meanwhile wait for the
next group, led by the first of them. Each hit's request still answers only
after its own row is committed.

One thread alone, a sync worker's, leads a group of one: the single-row
INSERT of before, and a lock taken and let go. A group that fails leaves its
hits to the single-row path one by one, so failures mean what they always
did: an unavailable database spools each hit, a row that can never be stored
is lost alone, the others stored.
"""

from __future__ import annotations

import collections
import itertools
import threading
from typing import TYPE_CHECKING

from django.db import connections

from lambdactr_django.store import database
from lambdactr_django.store.rows import Record

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper as Wrapper

# The databases whose groups are one transaction here (database._insert_once).
_GROUPED = frozenset({"postgresql", "sqlite"})
# The most hits one group takes: a bound on one statement's size and time
# (each row is bounded in bytes, and the group has LAMBDACTR_DB_TIMEOUT).
LARGEST = 32

# Outcomes. A member leaves the queue with one of them.
_WAITING = "waiting"
_STORED = "stored"
_ALONE = "alone"  # the group failed: this hit tries again on its own
_SPOOL = "spool"  # the database is unavailable: this hit goes to the spool


class _Member:
    __slots__ = ("error", "outcome", "values", "wake")

    def __init__(self, values: Record) -> None:
        self.values = values
        self.outcome = _WAITING
        self.error: BaseException | None = None
        # Made only by a hit that has to wait: most never do.
        self.wake: threading.Condition | None = None


_lock = threading.Lock()
# The hits of this process waiting to be stored, the leader's group first.
_queue: collections.deque[_Member] = collections.deque()


def insert(values: Record) -> None:
    """Insert one new row, committed before this returns, with whichever other hits
    of this process come at the same time; raises as ``database.insert`` does."""
    # This thread's: a leader stores its group on its own connection.
    connection = connections[database.beacon_alias()]
    if connection.in_atomic_block or connection.vendor not in _GROUPED:
        # Inside a caller's transaction the hit is part of it, not of a group.
        database.insert_group([values], connection)
        return
    member = _Member(values)
    group = _join(member)
    if group:
        _lead(member, group, connection)
    if member.outcome == _STORED:
        return
    if member.outcome == _SPOOL:
        assert member.error is not None
        raise _own_copy(member.error)
    database.insert_group([values], connection)


def _own_copy(error: BaseException) -> BaseException:
    # Each thread its own exception: one raised in several at once would have
    # its traceback written by all of them. Django's database errors take their
    # message alone; anything else is raised as it is.
    try:
        copy = type(error)(*error.args)
    except Exception:
        return error
    copy.__cause__ = error
    return copy


def _join(member: _Member) -> list[_Member]:
    """Queue ``member``; once it is first, its group (itself first), or [] once
    another's group has given it an outcome."""
    with _lock:
        _queue.append(member)
        while _queue[0] is not member:
            if member.wake is None:
                member.wake = threading.Condition(_lock)
            # Woken by the leader whose group holds it, or that made it first.
            member.wake.wait()
            if member.outcome != _WAITING:
                return []
        return list(itertools.islice(_queue, LARGEST))


def _lead(member: _Member, group: list[_Member], connection: Wrapper) -> None:
    if len(group) == 1:
        # Alone: the single-row path itself, its failures raised to this hit.
        # Hits that come meanwhile queue for the next group.
        try:
            database.insert_group([member.values], connection)
        finally:
            _leave(group, _STORED, None)
        return
    outcome, error = _ALONE, None
    try:
        database.insert_group([each.values for each in group], connection)
        outcome = _STORED
    except database.UNAVAILABLE as unavailable:
        # Even on a new connection (insert_group tries one): what the
        # single-row path does with each hit then, spool it.
        outcome, error = _SPOOL, unavailable
    except Exception:
        # A row that can never be stored, most likely (a DatabaseError, or a
        # value its field refuses): the transaction took the others with it,
        # so each tries again alone, and that one fails alone.
        outcome = _ALONE
    finally:
        _leave(group, outcome, error)


def _leave(group: list[_Member], outcome: str, error: BaseException | None) -> None:
    # Whatever happened, every member gets an outcome and the next leader is
    # woken: a thread left waiting would hold its request forever.
    with _lock:
        for each in group:
            _queue.popleft()
            each.outcome, each.error = outcome, error
            if each.wake is not None:
                each.wake.notify()
        if _queue and _queue[0].wake is not None:
            _queue[0].wake.notify()
