"""Numbers as a person reads them: grouped digits and percentages in the active
locale (Django's number formats), and the change against the previous period."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.formats import number_format

# What a number that cannot be known is shown as; the page says why beside it.
UNKNOWN = "—"


def count(value: int | float | None) -> str:
    """``1234`` as "1,234" (or "1.234", …): always grouped, as humanize's intcomma."""
    if value is None:
        return UNKNOWN
    if isinstance(value, float) and not value.is_integer():
        return number_format(value, decimal_pos=1, force_grouping=True)
    return number_format(int(value), force_grouping=True)


def percent(fraction: float | None, decimals: int = 0) -> str:
    """A fraction (0.125) as a percentage ("13%", "12.5%" with one decimal)."""
    if fraction is None:
        return UNKNOWN
    return f"{number_format(fraction * 100, decimal_pos=decimals, force_grouping=True)}%"


@dataclass(frozen=True, slots=True)
class Change:
    # "+12%", "-3%" (with a minus sign), "new", "—" (nothing then or now), "±0%".
    text: str
    # "up", "down" or "same", for the arrow's colour.
    direction: str


def change(current: float, previous: float, points: bool = False) -> Change:
    """``current`` against ``previous``: relative in %, or in percentage points for a
    rate (``points``), whose relative change reads as nonsense ("+50%" of 2%)."""
    if points:
        delta = (current - previous) * 100
        return Change(_signed(delta, " pp"), _direction(delta))
    if previous == 0:
        return Change("new", "up") if current else Change(UNKNOWN, "same")
    delta = (current - previous) / previous * 100
    return Change(_signed(delta, "%"), _direction(delta))


def _signed(delta: float, unit: str) -> str:
    rounded = round(delta)
    if rounded == 0:
        return f"±0{unit}"
    # A real minus sign: a hyphen reads as a dash beside a number.
    sign = "+" if rounded > 0 else "\u2212"
    return f"{sign}{number_format(abs(rounded), force_grouping=True)}{unit}"


def _direction(delta: float) -> str:
    if round(delta) == 0:
        return "same"
    return "up" if delta > 0 else "down"
