"""Counting raw hits and rollup rows together, in one statement per question.

The statistics of a range read the rollups for its sealed days and the raw
hits for the rest; these add the two up in the database, so the groups of a
long tail (pages) never travel to Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections
from django.db.models import Count, F, Q, QuerySet, Sum

from lambdactr_django.models import HEAVY_PAGE_DAY, HeaderHit, Rollup

# Rows with at least this many hits are looked at first; the partial index
# lambdactr_rollup_heavy_idx holds them.
HEAVY = HEAVY_PAGE_DAY
# More candidate pages than this: count every page instead.
MAX_CANDIDATES = 400


def top_pages(
    raw: QuerySet[HeaderHit], rolled: QuerySet[Rollup], limit: int, bound: int
) -> list[dict[str, Any]]:
    """The top pages of the raw hits and the page rollup rows together.

    Adding up every page of a month is most of the statistics' work at
    millions of hits (the long tail). But a page with no heavy row on any day
    has at most ``bound`` views in the rollups (HEAVY - 1 per row, per day and
    traffic class and signature counted); so when the top pages among those
    with a heavy row, counted exactly, all have more than ``bound`` plus the
    most any other page has in the raw hits, no other page can be among them.
    Otherwise every page is counted. Either way the answer is exact.
    """
    full = rolled.annotate(path=F("value")).values("site", "path").annotate(n=Sum("views"))
    raw_pages = raw.values("site", "path").annotate(n=Count("pk"))
    heavy = set(rolled.filter(views__gte=HEAVY, folded=0).values_list("site", "value").distinct())
    if 0 < len(heavy) <= MAX_CANDIDATES:
        sites = {site for site, _ in heavy}
        paths = {path for _, path in heavy}
        # Every page of these sites and paths is counted exactly below.
        others = [
            row["n"]
            for row in raw_pages.order_by()
            if row["site"] not in sites or row["path"] not in paths
        ]
        top = merged(
            raw_pages.filter(site__in=sorted(sites), path__in=sorted(paths)),
            full.filter(site__in=sorted(sites), value__in=sorted(paths)),
            ["site", "path"],
            ["n"],
            limit,
        )
        if len(top) == limit and top[-1]["n"] > bound + max(others, default=0):
            return top
    return merged(raw_pages, full, ["site", "path"], ["n"], limit)


def merged(
    raw: QuerySet[Any], rolled: QuerySet[Any], keys: list[str], counts: list[str], limit: int
) -> list[dict[str, Any]]:
    """The top ``limit`` groups of two grouped querysets with the same columns
    (``keys`` then ``counts``), their counts added, ordered as ``report`` orders."""
    # One statement: the groups of a long tail (pages) never travel to Python.
    connection = connections[raw.db]
    quote = connection.ops.quote_name
    parts: list[str] = []
    params: list[Any] = []
    for number, queryset in enumerate((raw, rolled)):
        sql, part_params = queryset.query.get_compiler(using=raw.db).as_sql()
        # Django's own SQL and quoted column names; every value is a parameter.
        parts.append(f"SELECT * FROM ({sql}) AS {quote(f'part{number}')}")  # noqa: S608
        params.extend(part_params)
    columns = ", ".join(quote(key) for key in keys)
    sums = ", ".join(f"COALESCE(SUM({quote(c)}), 0) AS {quote(c)}" for c in counts)
    order = ", ".join([*(f"{quote(c)} DESC" for c in counts), columns])
    union = " UNION ALL ".join(parts)
    sql = f"SELECT {columns}, {sums} FROM ({union}) AS {quote('merged')} GROUP BY {columns}"  # noqa: S608
    sql += f" ORDER BY {order} LIMIT %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        rows = cursor.fetchall()
    return [
        {
            **dict(zip(keys, row[: len(keys)], strict=True)),
            **{c: int(v) for c, v in zip(counts, row[len(keys) :], strict=True)},
        }
        for row in rows
    ]


def shortfalls(
    rolled: QuerySet[Rollup],
    rows: list[dict[str, Any]],
    value: str,
    *,
    per_site: bool,
    measures: Sequence[str] = ("views", "visitors"),
) -> tuple[list[int], int]:
    """How many hits the counts of ``rows`` (top values of one dimension's rollup
    rows ``rolled``, ``value`` naming the value's key) may be missing, and a value
    not listed at most.

    A value is missing from a group of rows (day or month, site, traffic class,
    signature) where it was folded in with the others; there it had at most
    ``largest_views`` views (and ``largest_visitors`` visitor-days), which
    every row of the group carries. So a row may be missing the sum of those
    over the groups with a folded row, less the groups where it was kept (for
    a page, ``per_site``: its site's groups, or every site's): a bound, and 0
    where nothing was folded. The answer is the bound of whichever of
    ``measures`` (Rollup's count columns) is larger.
    """
    if not measures:
        return [0] * len(rows), 0
    values = sorted({row[value] for row in rows})
    folded, kept = Q(folded__gt=0), Q(folded=0)
    sums: dict[str, Any] = {}
    for m in measures:
        sums[f"all_{m}"] = Sum(f"largest_{m}", filter=folded)
        sums[f"kept_{m}"] = Sum(f"largest_{m}", filter=kept)
    # One statement: the groups' folded rows, and the kept rows of the listed values.
    found: QuerySet[Any] = (
        rolled.filter(folded | (kept & Q(value__in=values)))
        .values("site", "value")
        .annotate(**sums)
        .order_by()
    )
    totals: dict[str, dict[str, int]] = {}
    spared: dict[tuple[str, str], dict[str, int]] = {}
    for group in found:
        of_site = totals.setdefault(group["site"], dict.fromkeys(measures, 0))
        key = (group["site"] if per_site else "", group["value"])
        where_kept = spared.setdefault(key, dict.fromkeys(measures, 0))
        for m in measures:
            of_site[m] += int(group[f"all_{m}"] or 0)
            where_kept[m] += int(group[f"kept_{m}"] or 0)
    overall = {m: sum(site[m] for site in totals.values()) for m in measures}
    if not any(overall.values()):
        return [0] * len(rows), 0
    shorts = []
    none = dict.fromkeys(measures, 0)
    for row in rows:
        site = row["site"] if per_site else ""
        # A path may be missing from its site's groups, or from the groups of
        # every site (whose folded rows name no site).
        bound = (
            {m: sum(totals.get(s, none)[m] for s in {site, ""}) for m in measures}
            if per_site
            else overall
        )
        where_kept = spared.get((site, row[value]), none)
        shorts.append(max(bound[m] - where_kept[m] for m in measures))
    return shorts, max(overall.values())
