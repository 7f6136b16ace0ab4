"""The rollups' dimensions, and the one statement that counts a span's hits into
rollup rows (``lambdactr_django.stats.rollups`` decides which spans, and when)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connections

from lambdactr_django.conf import conf
from lambdactr_django.hits import Kind
from lambdactr_django.models import HeaderHit, Rollup, column_of
from lambdactr_django.stats import traffic

PAGE = "page"
REFERRER = "referrer"
BROWSER = "browser"
OS = "os"
# Every hit has exactly one device: the device rows also give the totals, the
# per-day series and the traffic classes.
DEVICE = "device"
BOT_REASON = "bot_reason"
# A visit's first page: the path of its visitor-day (docs/visits.md).
ENTRY = "entry"
CHANNEL = "channel"
UTM_SOURCE = "utm_source"
UTM_MEDIUM = "utm_medium"
UTM_CAMPAIGN = "utm_campaign"
LANGUAGE = "language"
COUNTRY = "country"

# Dimension -> (the hits' column counted by value, condition on the day's hits,
# its parameters). Only what the statistics show: pages and referrers of views,
# entry pages of visits, reasons of bots, and no empty values of the rest (the
# totals come from the device rows). Visits and bounces need no dimension of
# their own: they are visitor-days and second views, kinds the device rows
# count; no other dimension counts second views (the lists show views and
# visitors), which spares their rows.
_COUNTED = "kind <> %s"
_NOT_SECOND = (Kind.SECOND_VIEW,)
DIMENSIONS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    PAGE: ("path", "kind = %s", (Kind.VIEW,)),
    REFERRER: ("referrer_host", "kind = %s AND referrer_host <> ''", (Kind.VIEW,)),
    BROWSER: ("browser", _COUNTED, _NOT_SECOND),
    OS: ("os", _COUNTED, _NOT_SECOND),
    DEVICE: ("device", "", ()),
    BOT_REASON: ("bot_reason", f"is_bot AND {_COUNTED}", _NOT_SECOND),
    ENTRY: ("path", "kind = %s AND path <> ''", (Kind.VISITOR_DAY,)),
    CHANNEL: ("channel", "kind = %s AND channel <> ''", (Kind.VIEW,)),
    UTM_SOURCE: ("utm_source", f"{_COUNTED} AND utm_source <> ''", _NOT_SECOND),
    UTM_MEDIUM: ("utm_medium", f"{_COUNTED} AND utm_medium <> ''", _NOT_SECOND),
    UTM_CAMPAIGN: ("utm_campaign", f"{_COUNTED} AND utm_campaign <> ''", _NOT_SECOND),
    LANGUAGE: ("language", f"{_COUNTED} AND language <> ''", _NOT_SECOND),
    COUNTRY: ("country", f"{_COUNTED} AND country <> ''", _NOT_SECOND),
}


# The day's hits as the rollup reads them, the traffic class included.
_KEPT = (
    *("site", "path", "referrer_host", "browser", "os", "device", "bot_reason", "is_bot"),
    *("channel", "utm_source", "utm_medium", "utm_campaign", "language", "country"),
)
_DAY_HITS = (*_KEPT, "kind", "verified", "traffic")
# Rollup.scope: a group of one site's hits, or of every site's together.
SITE = "site"
ALL = "all"
# A group of rows, whose busiest values are kept and the rest folded together.
_GROUP = {SITE: "site, traffic, verified", ALL: "traffic, verified"}
# Dimensions whose values are paths of one site: their rows over every site
# keep the site of each kept value (the lists name a site's page).
PER_SITE = (PAGE, ENTRY)
# Dimensions of many values a day (paths, referrer hosts): over every site,
# people's groups keep LAMBDACTR_ROLLUP_KEEP_EVERY_SITE of them.
LONG_TAILS = (PAGE, ENTRY, REFERRER)
_ROLLUP = (
    *("day", "period", "scope", "site", "dimension", "value", "traffic", "verified"),
    *("views", "visitors", "seconds", "folded", "largest_views", "largest_visitors"),
)
# Kind -> the Rollup column that counts its hits.
COLUMNS = {Kind.VIEW: "views", Kind.VISITOR_DAY: "visitors", Kind.SECOND_VIEW: "seconds"}


def keep(traffic_class: str, dimension: str, scope: str = SITE) -> int:
    """How many values of a group of rows are kept one by one: fewer of bots and
    prefetches, whose long tails are not what the statistics are for, but for
    the reasons bots were told apart, which are only theirs (and few); more
    of people's paths and referrers over every site, where one group holds the
    tails of every site, so the top ten of a range stay exact."""
    if traffic_class == traffic.Traffic.HUMAN and scope == ALL and dimension in LONG_TAILS:
        return conf.ROLLUP_KEEP_EVERY_SITE
    if traffic_class == traffic.Traffic.HUMAN or dimension == BOT_REASON:
        return conf.ROLLUP_KEEP
    return conf.ROLLUP_KEEP_BOTS


def scope_of(site: str | None) -> str:
    """The rows that answer for ``site``: its own, or every site's for all of them."""
    return ALL if site is None else SITE


def insert_sql(
    using: str, day: dt.date, start: dt.datetime, end: dt.datetime, period: str
) -> tuple[str, list[Any]]:
    """One INSERT of every dimension's rows of the hits from ``start`` to ``end``,
    as ``period`` rows of ``day``, in both scopes, reading the hits once."""
    connection = connections[using]
    quote = connection.ops.quote_name
    # Django writes the day's hits and their traffic class (traffic.class_of):
    # the one definition of the classes, and the backend's own SQL for it.
    day_hits = (
        HeaderHit.objects.using(using)
        .order_by()
        .filter(created_at__gte=start, created_at__lt=end)
        .annotate(traffic=traffic.class_of())
        .values(*_DAY_HITS)
    )
    day_sql, day_params = day_hits.query.get_compiler(using=using).as_sql()
    rollup = ", ".join(quote(column_of(Rollup._meta.get_field(name))) for name in _ROLLUP)
    tables = [f"day_hits ({', '.join(_DAY_HITS)}) AS ({day_sql})"]
    params: list[Any] = list(day_params)
    selects: list[str] = []
    select_params: list[Any] = []
    day_value = connection.ops.adapt_datefield_value(day)
    for dimension in DIMENSIONS:
        for scope in (SITE, ALL):
            ranked, ranked_params = _ranked(dimension, scope)
            tables.append(ranked)
            params += ranked_params
            folding, folding_params = _folding(dimension, scope)
            tables += folding
            params += folding_params
            group = _GROUP[scope]
            site = "site" if scope == SITE or dimension in PER_SITE else "''"
            name = f"{scope}_{dimension}"
            selects.append(
                f"SELECT %s, %s, %s, {site}, %s, value, traffic, verified, views, "  # noqa: S608
                f"visitors, seconds, 0, tail_views, tail_visitors FROM tail_{name} "
                f"WHERE kept = 1"
            )
            # The folded row of a group over every site names no site.
            group_site = "site" if scope == SITE else "''"
            selects.append(
                f"SELECT %s, %s, %s, {group_site}, %s, %s, traffic, verified, SUM(views), "  # noqa: S608
                f"SUM(visitors), SUM(seconds), COUNT(*), MAX(views), MAX(visitors) "
                f"FROM tail_{name} WHERE kept = 0 GROUP BY {group}"
            )
            select_params += [day_value, period, scope, dimension]
            select_params += [day_value, period, scope, dimension, ""]
    union = " UNION ALL ".join(selects)
    # Only our own table's and columns' names are formatted in; values are parameters.
    table = quote(Rollup._meta.db_table)
    sql = f"WITH {', '.join(tables)} INSERT INTO {table} ({rollup}) {union}"
    return sql, params + select_params


def _ranked(dimension: str, scope: str) -> tuple[str, list[Any]]:
    """The CTE of a dimension's values in each group of ``scope``, with their
    counts and their place in the group (busiest first; ties by value, so
    rolling again gives the same rows)."""
    group = _GROUP[scope]
    if scope == SITE:
        column, condition, condition_params = DIMENSIONS[dimension]
        where = f" WHERE {condition}" if condition else ""
        # One row per value with a count per kind, so a value seen as views and
        # as visitor-days is one row, not two.
        counts = ", ".join(
            f"SUM(CASE WHEN kind = %s THEN 1 ELSE 0 END) AS {name}" for name in COLUMNS.values()
        )
        return (
            f"ranked_{scope}_{dimension} AS (SELECT {group}, {column} AS value, "  # noqa: S608
            f"{counts}, COUNT(*) AS hits, ROW_NUMBER() OVER (PARTITION BY {group} "
            f"ORDER BY COUNT(*) DESC, {column}) AS place "
            f"FROM day_hits{where} GROUP BY {group}, {column})",
            [*COLUMNS, *condition_params],
        )
    # Every site's groups add up the sites' (already grouped) values rather
    # than read the hits again; a path stays a path of its site.
    keys = "site, value" if dimension in PER_SITE else "value"
    sums = ", ".join(f"SUM({name}) AS {name}" for name in (*COLUMNS.values(), "hits"))
    return (
        f"ranked_{scope}_{dimension} AS (SELECT {group}, {keys}, {sums}, "  # noqa: S608
        f"ROW_NUMBER() OVER (PARTITION BY {group} ORDER BY SUM(hits) DESC, {keys}) "
        f"AS place FROM ranked_{SITE}_{dimension} GROUP BY {group}, {keys})",
        [],
    )


def _folding(dimension: str, scope: str) -> tuple[list[str], list[Any]]:
    """The CTEs that mark which values of a group are kept, then put on every
    row of it the most one folded value had: a kept row says what its value
    may miss elsewhere (stats.merge.shortfalls) without a join to its group's
    folded row. People's groups keep more than bots'."""
    group = _GROUP[scope]
    name = f"{scope}_{dimension}"
    human = traffic.Traffic.HUMAN
    limits = [human, keep(human, dimension, scope), keep(traffic.Traffic.BOT, dimension, scope)]
    return [
        f"kept_{name} AS (SELECT *, CASE WHEN place <= CASE WHEN traffic = %s "  # noqa: S608
        f"THEN %s ELSE %s END THEN 1 ELSE 0 END AS kept FROM ranked_{name})",
        f"tail_{name} AS (SELECT *, "  # noqa: S608
        f"MAX(CASE WHEN kept = 0 THEN views ELSE 0 END) OVER (PARTITION BY {group}) "
        f"AS tail_views, "
        f"MAX(CASE WHEN kept = 0 THEN visitors ELSE 0 END) OVER (PARTITION BY {group}) "
        f"AS tail_visitors FROM kept_{name})",
    ], limits
