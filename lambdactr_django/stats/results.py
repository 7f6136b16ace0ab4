"""What the statistics answer: a ``Report`` of a range of days, its ``Row``s and ``Day``s."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    views: int
    # None where it cannot be known: a browser's visitor-day belongs to a site,
    # not to a page or a referrer.
    visitors: int | None
    # Field values selecting these hits, for links to the hit list.
    lookups: dict[str, str] = field(default_factory=dict)
    # The most hits views or visitors may be missing: on some days the value was
    # among the rare ones the rollups count together (0: exact).
    short: int = 0


@dataclass(frozen=True, slots=True)
class Day:
    day: dt.date
    views: int
    visitors: int


@dataclass(frozen=True, slots=True)
class Report:
    start: dt.date | None
    end: dt.date | None
    traffic: str
    views: int
    visitors: int
    days: list[Day]
    pages: list[Row]
    referrers: list[Row]
    browsers: list[Row]
    systems: list[Row]
    devices: list[Row]
    # Every traffic class, whatever ``traffic`` is, for the share of bots and prefetches.
    traffic_classes: list[Row]
    bot_reasons: list[Row]
    # How views arrived (label: a hits.Channel value; "" is direct or internal),
    # views only (visitors None).
    channels: list[Row]
    # The landing pages' utm_source, utm_medium and utm_campaign: views that
    # carried them, and visits (visitors) whose entry page did.
    sources: list[Row]
    mediums: list[Row]
    campaigns: list[Row]
    # A visit's first page (views and visitors both count visits).
    entry_pages: list[Row]
    languages: list[Row]
    countries: list[Row]
    # Visits are visitor-days: one browser's views of a site on one day
    # (docs/visits.md); a bounce is a visit with one view only.
    visits: int
    bounces: int
    bounce_rate: float | None
    views_per_visit: float | None
    # Per top list ("pages", ...), the most hits a value not listed may have
    # beyond the last row's count (0: the list is exact).
    unlisted: dict[str, int] = field(default_factory=dict)

    @property
    def hits(self) -> int:
        return self.views + self.visitors

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["hits"] = self.hits
        return data


def page_rows(rows: Iterable[dict[str, Any]]) -> list[Row]:
    return [
        Row(
            label=f"{row['site']}{row['path']}",
            views=row["n"],
            visitors=None,
            lookups={"site": row["site"], "path": row["path"]},
        )
        for row in rows
    ]


def referrer_rows(rows: Iterable[dict[str, Any]]) -> list[Row]:
    return [
        Row(
            label=row["referrer_host"],
            views=row["n"],
            visitors=None,
            lookups={"referrer_host": row["referrer_host"]},
        )
        for row in rows
    ]


def breakdown_rows(rows: Iterable[dict[str, Any]], column: str) -> list[Row]:
    return [
        Row(
            label=row[column],
            views=row["n_views"],
            visitors=row["n_visitors"],
            lookups={column: row[column]},
        )
        for row in rows
    ]
