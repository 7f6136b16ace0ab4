"""Hits of the past, with keys and times of their own: lambdactr_import_log's.

Each batch goes in as one transaction (COPY on PostgreSQL), skipping the keys
stored already, so an import stopped half way leaves its finished batches and
a second run adds only what the first did not. They belong to past days, so
each committed batch is announced (``hits_stored``) for the rollups to follow.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
import uuid
from collections.abc import Sequence
from typing import NamedTuple

from django.db import router

from lambdactr_django.hits import HIT_FIELDS, Hit
from lambdactr_django.models import HeaderHit
from lambdactr_django.signals import hits_stored
from lambdactr_django.store import database

_hit_values = operator.attrgetter(*HIT_FIELDS)
_HEADERS = HIT_FIELDS.index("headers")
_encode = json.JSONEncoder(separators=(",", ":")).encode


class Dated(NamedTuple):
    """A hit with the key and time its source gave it."""

    key: uuid.UUID
    created_at: dt.datetime
    hit: Hit


def alias() -> str:
    # Not the beacon's database role, which may only INSERT: an import is the
    # site owner's work, like lambdactr_prune's, and goes through the router.
    return router.db_for_write(HeaderHit) or "default"


def save(hits: Sequence[Dated]) -> int:
    """Store those of ``hits`` whose key is not stored yet, in one transaction;
    returns how many were new."""
    if not hits:
        return 0
    rows = []
    for key, created_at, hit in hits:
        values = list(_hit_values(hit))
        values[_HEADERS] = _encode(values[_HEADERS])
        rows.append((key, created_at, *values))
    stored = database.load_new_rows(alias(), rows)
    if stored:
        # Some of them, at least, changed their days: a file imported again
        # changes nothing, and its days need not be rolled up again.
        hits_stored.send(HeaderHit, created_at=[dated.created_at for dated in hits])
    return stored
