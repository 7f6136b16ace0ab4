"""The sentence that says what the default filters leave out, with a link to everything."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import QuerySet
from django.http import HttpRequest

from lambdactr_django import stats
from lambdactr_django.admin.filters import Selection, TrafficFilter, VerifiedFilter, selection
from lambdactr_django.models import HeaderHit
from lambdactr_django.stats.counting import Hidden, hidden, hidden_of

# What the hit list's query must say to show every hit.
SHOW_ALL = {TrafficFilter.parameter_name: stats.Traffic.ALL, VerifiedFilter.parameter_name: "all"}


@dataclass(frozen=True)
class HiddenNote:
    sentence: str
    show_all_url: str


def note(request: HttpRequest, everything: QuerySet[HeaderHit], url: str) -> HiddenNote | None:
    """What the filters of ``request`` leave out of ``everything``; None if nothing."""
    chosen = selection(request.GET)
    try:
        parts = _left_out(chosen, everything, chosen.traffic)
    except IncorrectLookupParameters:
        return None
    if not parts:
        return None
    query = {k: v for k, v in request.GET.items() if k not in ("p", "e", *SHOW_ALL)}
    return HiddenNote(
        sentence=sentence(parts), show_all_url=f"{url}?{urlencode({**query, **SHOW_ALL})}"
    )


def statistics_note(
    request: HttpRequest, report: stats.Report, everything: QuerySet[HeaderHit], url: str
) -> HiddenNote | None:
    """The same for the statistics page: the traffic classes left out are counted in
    ``report`` already (its traffic table), so only the signature costs a query."""
    chosen = selection(request.GET)
    parts = []
    if chosen.traffic != stats.Traffic.ALL:
        parts = [
            Hidden(row.label, row.views + (row.visitors or 0), False, by="traffic")
            for row in report.traffic_classes
            if row.lookups.get("traffic") != chosen.traffic and row.views + (row.visitors or 0)
        ]
    if chosen.verified is not None:
        parts += _left_out(chosen, everything, stats.Traffic.ALL)
    if not parts:
        return None
    query = {k: v for k, v in request.GET.items() if k not in ("p", "e", *SHOW_ALL)}
    return HiddenNote(
        sentence=sentence(parts), show_all_url=f"{url}?{urlencode({**query, **SHOW_ALL})}"
    )


def _left_out(chosen: Selection, everything: QuerySet[HeaderHit], traffic: str) -> list[Hidden]:
    # The rollups answer the hit list's own filters (site, date, kind, traffic,
    # signature), exactly; a search or another column's filter is counted raw.
    if chosen.narrowed:
        return hidden(everything, traffic, chosen.verified)
    return hidden_of(chosen.site, chosen.start, chosen.end, chosen.kind, traffic, chosen.verified)


def sentence(parts: list[Hidden]) -> str:
    """E.g. "Not shown: about 1,200 bot hits (Traffic filter) and 3 hits with a forged
    or broken signature (Signature filter)." """
    phrases = [_phrase(part) for part in parts]
    joined = phrases[0] if len(phrases) == 1 else f"{', '.join(phrases[:-1])} and {phrases[-1]}"
    return f"Not shown: {joined}."


def _phrase(part: Hidden) -> str:
    about = "about " if part.estimated else ""
    if part.by == "signature":
        noun = "hit" if part.count == 1 else "hits"
        return f"{about}{part.count:,} {noun} {part.what} (Signature filter)"
    one, many = _NOUNS.get(part.what, (part.what, part.what))
    return f"{about}{part.count:,} {one if part.count == 1 else many} (Traffic filter)"


# Hits, not clients: a bot that read one page left a view and a visitor-day.
_NOUNS = {
    "people": ("hit by a person", "hits by people"),
    "bots": ("bot hit", "bot hits"),
    "prefetches": ("prefetch", "prefetches"),
}
