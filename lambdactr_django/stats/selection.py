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


def uncovered(
    covered: list[tuple[dt.datetime, dt.datetime]], start: dt.date | None, end: dt.date | None
) -> Q:
    """The hits from ``start`` to ``end`` outside the (disjoint) ``covered`` spans
    of created_at, as plain ranges: the planner then walks the index over those
    alone and estimates them right, where NOT (covered) would read every hit."""
    low: dt.datetime | None = None
    if start is not None and start > dt.date.min:
        low = days.start_of(start)
    condition = Q()
    for first, last in sorted(covered):
        if low is None or low < first:
            condition |= _span(low, first)
        low = last
    high = None if end is None or end >= dt.date.max else days.start_of(end + dt.timedelta(days=1))
    if high is None or low is None or low < high:
        condition |= _span(low, high)
    if not condition:
        # Nothing uncovered: an empty range, as Django writes no SQL for .none().
        return Q(created_at__gte=low, created_at__lt=low)
    return condition


def _span(low: dt.datetime | None, high: dt.datetime | None) -> Q:
    span = Q()
    if low is not None:
        span &= Q(created_at__gte=low)
    if high is not None:
        span &= Q(created_at__lt=high)
    # Q() alone would mean "everything", which is what an open span means.
    return span if span else Q(created_at__isnull=False)


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
