from __future__ import annotations

import datetime as dt

from django.test import override_settings

from lambdactr_django.logs.formats import Format
from lambdactr_django.logs.keys import WINDOW_SECONDS, Keys
from tests.logs.sample import combined

PARSE = Format("combined").parse


def _keys(lines: list[str], site: str = "blog.example") -> list[str]:
    keys = Keys(site)
    found = []
    for line in lines:
        entry = PARSE(line)
        assert entry is not None
        found.append(str(keys.key(line, entry)))
    return found


def test_the_same_lines_make_the_same_keys() -> None:
    lines = [combined("/a/"), combined("/b/"), combined("/a/")]
    first = _keys(lines)
    assert first == _keys(lines)
    # Identical lines are two hits: the second is told apart by its place.
    assert len(set(first)) == 3


def test_a_key_is_a_uuid7_of_the_lines_time() -> None:
    (key,) = _keys([combined("/")])
    assert key[14] == "7"
    assert key[19] in "89ab"
    milliseconds = int(key.replace("-", "")[:12], 16)
    assert milliseconds == dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC).timestamp() * 1000


def test_the_address_and_user_are_not_part_of_the_key() -> None:
    # Only their place among lines alike tells two clients' lines apart.
    alone = _keys([combined("/", address="198.51.100.7", user="bob")])
    assert alone == _keys([combined("/", address="203.0.113.41", user="alice")])


def test_keys_depend_on_the_site_and_the_secret() -> None:
    line = [combined("/")]
    assert _keys(line) != _keys(line, site="shop.example")
    with override_settings(SECRET_KEY="another-secret-key-for-the-test"):
        other = _keys(line)
    assert other != _keys(line)


def test_counts_identical_lines_over_the_window_only() -> None:
    late = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC) + dt.timedelta(seconds=WINDOW_SECONDS * 3)
    later = f"{late.day:02d}/Nov/2026:{late:%H:%M:%S} +0000"
    lines = [combined("/"), combined("/x/", when=later), combined("/")]
    keys = _keys(lines)
    # Out of order by more than the window: taken for the first line again.
    assert keys[0] == keys[2]
    within = [combined("/"), combined("/x/"), combined("/")]
    assert len(set(_keys(within))) == 3
