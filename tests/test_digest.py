"""The digest's parts: the change in words, and the top lists a report has."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from lambdactr_django import digest
from lambdactr_django.stats import Row


@pytest.mark.parametrize(
    ("now", "before", "text"),
    [(3, 2, "+50%"), (1, 2, "-50%"), (2, 2, "no change"), (0, 0, "no change"), (5, 0, "new"),
     (0, 4, "-100%"), (1001, 1000, "+0%"), (999, 1000, "-0%")],
)  # fmt: skip
def test_the_change_in_words(now: int, before: int, text: str) -> None:
    assert digest.Change(now, before).text == text


def _rows(*labels: str) -> list[Row]:
    return [
        Row(label=label, views=len(labels) - i, visitors=None) for i, label in enumerate(labels)
    ]


@dataclass
class _NewerReport:
    # A report of a version that counts sources: the digest shows them unchanged.
    pages: list[Row] = field(default_factory=lambda: _rows("a", "b"))
    referrers: list[Row] = field(default_factory=list)
    sources: list[Row] = field(default_factory=lambda: _rows("newsletter", "<script>"))
    campaigns: list[Row] = field(default_factory=list)


def test_optional_top_lists_are_shown_where_the_report_has_them() -> None:
    sections = digest.sections(_NewerReport())

    assert [(s.title, s.rows) for s in sections] == [
        ("Top pages", [("a", 2), ("b", 1)]),
        ("Top referrers", []),
        ("Top sources", [("newsletter", 2), ("<script>", 1)]),
        ("Top campaigns", []),
    ]


def test_a_report_without_them_shows_pages_and_referrers() -> None:
    @dataclass
    class Older:
        pages: list[Row]
        referrers: list[Row]

    titles = [s.title for s in digest.sections(Older(_rows("a"), _rows("r")))]
    assert titles == ["Top pages", "Top referrers"]


def test_at_most_ten_rows() -> None:
    report = _NewerReport(pages=_rows(*(f"p{i}" for i in range(15))))
    assert len(digest.sections(report)[0].rows) == 10
