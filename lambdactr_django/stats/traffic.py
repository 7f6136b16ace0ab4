"""Traffic classes, defined once: people, bots and prefetches split every set of hits
into three parts with no overlap. The statistics, the rollups' SQL, the hit list's
filter and its "traffic" column all read them from here."""

from __future__ import annotations

from typing import Final

from django.db.models import Case, CharField, Count, Q, QuerySet, Value, When

from lambdactr_django.hits import Kind
from lambdactr_django.models import HeaderHit


class Traffic:
    HUMAN: Final = "human"
    BOT: Final = "bot"
    PREFETCH: Final = "prefetch"
    # Not a class: every class together.
    ALL: Final = "all"
    CLASSES: Final = (HUMAN, BOT, PREFETCH)
    LABELS: Final = {HUMAN: "people", BOT: "bots", PREFETCH: "prefetches", ALL: "all"}


def condition(traffic: str) -> Q:
    """The hits of one traffic class (every hit for ``Traffic.ALL``)."""
    if traffic == Traffic.HUMAN:
        return Q(is_bot=False, prefetch="")
    if traffic == Traffic.BOT:
        return Q(is_bot=True)
    if traffic == Traffic.PREFETCH:
        # A bot that prefetches is counted as a bot, so the classes do not overlap.
        return Q(is_bot=False) & ~Q(prefetch="")
    return Q()


def of_traffic(queryset: QuerySet[HeaderHit], traffic: str) -> QuerySet[HeaderHit]:
    return queryset.filter(condition(traffic))


def class_of() -> Case:
    """The traffic class of each hit, as an expression (the rollups group by it)."""
    return Case(
        *(When(condition(name), then=Value(name)) for name in Traffic.CLASSES),
        output_field=CharField(),
    )


def describe(hit: HeaderHit) -> str:
    """The hit list's word for one hit's traffic: "person", "prefetch", "bot: reason"."""
    if hit.is_bot:
        return f"bot: {hit.get_bot_reason_display()}"
    return hit.prefetch or "person"


def class_counts(queryset: QuerySet[HeaderHit]) -> dict[tuple[str, str], int]:
    """Hits of every (traffic class, kind), in one statement."""
    kinds = tuple(Kind.LABELS)
    counts = queryset.aggregate(
        **{
            f"{traffic}_{kind}": Count("pk", filter=condition(traffic) & Q(kind=kind))
            for traffic in Traffic.CLASSES
            for kind in kinds
        }
    )
    return {
        (traffic, kind): counts[f"{traffic}_{kind}"]
        for traffic in Traffic.CLASSES
        for kind in kinds
    }
