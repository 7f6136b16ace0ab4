"""Hits as CSV or JSON lines, produced row by row for a streaming response."""

from __future__ import annotations

import csv
import datetime as dt
import json
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet

from lambdactr_django.hits import COLUMNS
from lambdactr_django.models import HeaderHit

# Every column, in the order of the hit list's detail page.
FIELDS = COLUMNS
# Rows fetched per database round trip: memory stays flat however many rows.
CHUNK_SIZE = 2000
# A spreadsheet takes a cell starting with one of these for a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def rows(queryset: QuerySet[HeaderHit]) -> Iterator[dict[str, Any]]:
    for values in queryset.values_list(*FIELDS).iterator(chunk_size=CHUNK_SIZE):
        yield dict(zip(FIELDS, values, strict=True))


def csv_lines(hits: Iterable[dict[str, Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(FIELDS)
    for hit in hits:
        yield writer.writerow([neutralise(_text(hit[name])) for name in FIELDS])


def json_lines(hits: Iterable[dict[str, Any]]) -> Iterator[str]:
    for hit in hits:
        yield json.dumps(hit, default=_json_default, ensure_ascii=False) + "\n"


def neutralise(cell: str) -> str:
    """``cell`` with a leading apostrophe when a spreadsheet would run it as a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def _json_default(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"Cannot export {type(value).__name__}")


class _Echo:
    # csv.writer wants a file; this one hands each formatted line back.
    def write(self, value: str) -> str:
        return value
