"""Which hits: the one selection the hit list, the statistics and the export share."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from lambdactr_django import days
from lambdactr_django.models import HeaderHit


def select(
    site: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    kind: str | None = None,
    verified: bool | None = True,
) -> QuerySet[HeaderHit]:
    """Hits of every traffic class matching the filters the hit list offers."""
    queryset: QuerySet[HeaderHit] = HeaderHit.objects.all()
    if site is not None:
        queryset = queryset.filter(site=site)
    if kind is not None:
        queryset = queryset.filter(kind=kind)
    if verified is not None:
        queryset = queryset.filter(verified=verified)
    return between(queryset, start, end)


def between(
    queryset: QuerySet[HeaderHit], start: dt.date | None, end: dt.date | None
) -> QuerySet[HeaderHit]:
    """Hits from the start of ``start`` to the end of ``end``, in the site's time zone."""
    return queryset.filter(between_q(start, end))


def between_q(start: dt.date | None, end: dt.date | None) -> Q:
    """The condition of ``between``."""
    # The first and last days Python can hold mean "no bound": one day beyond
    # them, or their midnight in UTC, cannot be represented.
    condition = Q()
    if start is not None and start > dt.date.min:
        condition &= Q(created_at__gte=days.start_of(start))
    if end is not None and end < dt.date.max:
        condition &= Q(created_at__lt=days.start_of(end + dt.timedelta(days=1)))
    return condition


def gaps(
    runs: list[tuple[dt.date, dt.date]], start: dt.date | None, end: dt.date | None
) -> list[tuple[dt.date | None, dt.date | None]]:
    """The days from ``start`` to ``end`` outside the (sorted, disjoint) ``runs``."""
    one = dt.timedelta(days=1)
    gaps: list[tuple[dt.date | None, dt.date | None]] = []
    low = start
    for first, last in runs:
        if low is None or low < first:
            gaps.append((low, first - one))
        low = last + one
    if end is None or low is None or low <= end:
        gaps.append((low, end))
    return gaps


def recent(queryset: QuerySet[HeaderHit], hits: int) -> QuerySet[HeaderHit]:
    """The latest ``hits`` hits of ``queryset`` (a few more when several share a time)."""
    # Two queries rather than a subquery: the planner sees a plain bound on
    # created_at and walks its index, instead of guessing and scanning.
    oldest = (
        queryset.order_by("-created_at").values_list("created_at", flat=True)[hits - 1 : hits]
    ).first()
    if oldest is None:
        return queryset
    return queryset.filter(created_at__gte=oldest)
