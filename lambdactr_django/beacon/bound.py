"""One hit's size in bytes, bounded: ``MAX_HIT_BYTES`` as stored, whatever was sent.

Counted as the spool and journal lines spell a hit, JSON with every character
outside ASCII escaped (a four-byte character takes 12 bytes): the widest of the
ways it is stored, so the bound holds in either database too. What is cut is
said in the ``Lambdactr-Truncated`` header, never silently.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Final, cast

from lambdactr_django.hits import MAX_HIT_BYTES, Hit

TRUNCATED_HEADER: Final = "Lambdactr-Truncated"
# The key, the time, the labels (the channel, language and country among them)
# and the names of the fields: what a hit takes besides its texts (about 560
# bytes), with room to spare.
FIXED_BYTES: Final = 768
# The texts outside the headers each get a share, in bytes as stored.
COLUMN_BYTES: Final[dict[str, int]] = {
    "site": 1024,
    "path": 3072,
    "referrer": 3072,
    "referrer_host": 1024,
    "user_agent": 2048,
    "utm_source": 512,
    "utm_medium": 512,
    "utm_campaign": 512,
}
# What the marker itself may take.
MARKER_BYTES: Final = 160

_encode = json.JSONEncoder(separators=(",", ":")).encode


def encoded_size(value: object) -> int:
    return len(_encode(value))


def hit_size(hit: Hit) -> int:
    # One encoding of them all rather than one per text: a JSON list spells
    # each item as on its own, plus its brackets and commas (n items: n + 1 bytes).
    values: list[object] = [hit.site, hit.path, hit.referrer, hit.referrer_host, hit.user_agent]
    values += (hit.browser, hit.utm_source, hit.utm_medium, hit.utm_campaign, hit.headers)
    return FIXED_BYTES + encoded_size(values) - len(values) - 1


def size_at_most(hit: Hit) -> int:
    """At least ``hit_size(hit)``, from lengths alone: no text is encoded."""
    # JSON with ASCII escapes spells a character in at most 6 bytes (\uXXXX), one
    # outside the BMP in 12 (two of them); each string adds its quotes and a
    # separator, each header a colon. One join, so one pass in C over the texts.
    values = [hit.site, hit.path, hit.referrer, hit.referrer_host, hit.user_agent, hit.browser]
    values += (hit.utm_source, hit.utm_medium, hit.utm_campaign)
    headers = hit.headers
    texts = "".join(values) + "".join(headers) + "".join(headers.values())
    most = 6 if texts.isascii() else 12
    return FIXED_BYTES + 2 + most * len(texts) + 3 * len(values) + 6 * len(headers)


def fit(hit: Hit) -> Hit:
    """``hit``, cut to ``MAX_HIT_BYTES`` where it is bigger."""
    # Nearly every hit is far under the bound: told so without encoding it.
    if size_at_most(hit) <= MAX_HIT_BYTES or hit_size(hit) <= MAX_HIT_BYTES:
        return hit
    cut: list[str] = []
    columns: dict[str, str] = {}
    for name, most in COLUMN_BYTES.items():
        value = getattr(hit, name)
        if encoded_size(value) > most:
            columns[name] = cut_text(value, most)
            cut.append(name)
    hit = dataclasses.replace(hit, **cast("dict[str, Any]", columns))
    budget = MAX_HIT_BYTES - MARKER_BYTES - (hit_size(hit) - encoded_size(hit.headers))
    headers, values, dropped = _fit_headers(hit.headers, budget)
    if values:
        cut.append(f"{values} header values")
    if dropped:
        cut.append(f"{dropped} headers")
    # Named in the headers: the one place of a hit that takes a free-form note.
    headers[TRUNCATED_HEADER] = f"cut to {MAX_HIT_BYTES} bytes: " + ", ".join(cut)
    return dataclasses.replace(hit, headers=headers)


def cut_text(value: str, most: int) -> str:
    """The longest start of ``value`` whose JSON spelling takes at most ``most`` bytes."""
    while value and encoded_size(value) > most:
        size = encoded_size(value)
        # In proportion (exact for text of one kind of character), and always shorter.
        value = value[: min(len(value) - 1, len(value) * most // size)]
    return value


def _fit_headers(headers: dict[str, str], budget: int) -> tuple[dict[str, str], int, int]:
    # Every value longer than a common cap is cut to it: the smallest cut that
    # fits, taken from the biggest values first.
    sizes = {name: encoded_size(value) for name, value in headers.items()}
    names_size = encoded_size(dict.fromkeys(headers, ""))
    room = budget - names_size
    cap = _water_level(sorted(sizes.values(), reverse=True), room) if room > 0 else 0
    fitted: dict[str, str] = {}
    values = 0
    for name, value in headers.items():
        if sizes[name] > cap + 2:
            fitted[name] = cut_text(value, cap + 2)
            values += 1
        else:
            fitted[name] = value
    dropped = 0
    while fitted and encoded_size(fitted) > budget:
        # Names alone too many for the budget (LAMBDACTR_MAX_HEADERS raised far):
        # the last ones go.
        fitted.popitem()
        dropped += 1
    return fitted, values, dropped


def _water_level(sizes: list[int], room: int) -> int:
    # The highest cap c with sum(min(size, c)) <= room; sizes sorted descending.
    # A value of size s takes s - 2 beyond its name's "" (the quotes are counted).
    total = sum(size - 2 for size in sizes)
    if total <= room:
        return max(sizes, default=0)
    for index in range(len(sizes)):
        # The first ``index + 1`` values are cut to a common cap c, the rest kept.
        rest = sum(s - 2 for s in sizes[index + 1 :])
        cap = (room - rest) // (index + 1)
        following = sizes[index + 1] - 2 if index + 1 < len(sizes) else 0
        if cap >= following:
            return max(0, cap)
    return 0
