"""A hit as the store keeps it: a new ``HeaderHit`` row, or the same row as a record,
one JSON line of a spool file or journal. The one encoding of both.

The row's key and time are made here, before any write is tried, so that a row
that was committed but not acknowledged, then spooled, is stored only once
when the spool is replayed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import operator
import uuid
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from lambdactr_django.hits import HIT_FIELDS, Hit
from lambdactr_django.models import HeaderHit
from lambdactr_django.uuid7 import uuid7

Record = dict[str, Any]

_hit_values = operator.attrgetter(*HIT_FIELDS)
# Built once: json.dumps() with any option builds an encoder per call.
_encode = json.JSONEncoder(separators=(",", ":")).encode


def new_row(hit: Hit) -> HeaderHit:
    """``hit`` as a new row, its key and time made now."""
    return HeaderHit(id=uuid7(), created_at=timezone.now(), **dataclasses.asdict(hit))


def new_values(hit: Hit) -> Record:
    """``hit``'s new row as its columns' values, its key (a UUID) and time (a
    datetime) made now: what the durable INSERT sends, without a model instance."""
    values: Record = {"id": uuid7(), "created_at": timezone.now()}
    values.update(zip(HIT_FIELDS, _hit_values(hit), strict=True))
    return values


def new_record(hit: Hit) -> Record:
    """``hit``'s new row as a record, its key and time made now, as ``new_row``'s."""
    # No model instance on the buffered request path: building one costs more
    # than the rest of the journaling (docs/performance-buffered.md).
    values: Record = {"id": str(uuid7()), "created_at": timezone.now().isoformat()}
    values.update(zip(HIT_FIELDS, _hit_values(hit), strict=True))
    return values


def record_of(row: HeaderHit) -> Record:
    record: Record = {"id": str(row.id), "created_at": row.created_at.isoformat()}
    for name in HIT_FIELDS:
        record[name] = getattr(row, name)
    return record


def row_of(record: Record) -> HeaderHit:
    """The row a record was made from; raises ValueError, TypeError or KeyError for
    a line that is not one."""
    values = {name: record[name] for name in HIT_FIELDS if name in record}
    values["id"] = uuid.UUID(record["id"])
    values["created_at"] = dt.datetime.fromisoformat(record["created_at"])
    return HeaderHit(**values)


def encoded_size(record: Record) -> int:
    """The bytes ``record`` takes as a spool or journal line: at least what either
    database stores of it, since JSON escaping is the widest spelling of a character."""
    return len(_encode(record)) + 2


def line(record: Record) -> bytes:
    """One record as a journal line: ``lines([record])``, without the generator."""
    return ("\n" + _encode(record) + "\n").encode("ascii")


def lines(records: Iterable[Record]) -> bytes:
    """Records as spool or journal lines, ready for one ``write()``."""
    # A leading newline ends any line torn by a crash, so it costs only itself.
    return ("".join("\n" + _encode(record) for record in records) + "\n").encode("ascii")
