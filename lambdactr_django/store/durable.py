"""Durable writes, the default: each hit committed before the beacon answers.

Hits a threaded server has in flight at once are committed together, each
still before its own answer (store/group.py).

While the database is unavailable the hit goes to the spool instead, and the
first successful write after that replays the spool.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError

from lambdactr_django.hits import Hit
from lambdactr_django.models import HeaderHit
from lambdactr_django.store import database, group, replay, rows, spool

logger = logging.getLogger(__name__)


def save(hit: Hit) -> None:
    """Store ``hit``; spool it if the database is unavailable."""
    values = rows.new_values(hit)
    try:
        group.insert(values)
    except database.UNAVAILABLE as error:
        logger.debug("lambdactr: insert failed: %s", error)
        # A model instance only now: the spool keeps rows.
        if spool.append([HeaderHit(**values)]):
            spool.spooled.add()
        replay.check_soon()
        return
    except DatabaseError:
        # The row itself is bad: spooling it would only fail again on replay.
        spool.lost.add()
        raise
    replay.replay_if_due()
