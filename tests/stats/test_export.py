from __future__ import annotations

import csv
import io
import json

import pytest

from lambdactr_django import stats
from lambdactr_django.stats import export
from tests.hits import make_hit


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+33 1", "'+33 1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("/path/", "/path/"),
        ("", ""),
    ],
)
def test_neutralise(cell: str, safe: str) -> None:
    assert export.neutralise(cell) == safe


@pytest.mark.django_db
def test_csv_neutralises_request_data_and_keeps_everything_else() -> None:
    make_hit(path='=HYPERLINK("http://evil.example")', referrer="@x", headers={"DNT": "1"})
    text = "".join(export.csv_lines(export.rows(stats.select())))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    assert rows[0]["path"] == '\'=HYPERLINK("http://evil.example")'
    assert rows[0]["referrer"] == "'@x"
    assert rows[0]["is_bot"] == "false"
    assert json.loads(rows[0]["headers"]) == {"DNT": "1"}


@pytest.mark.django_db
def test_json_lines_are_one_object_per_hit_and_unaltered() -> None:
    make_hit(path="=1")
    make_hit(path="/b/", kind="visitor")
    lines = list(export.json_lines(export.rows(stats.select())))
    assert len(lines) == 2
    assert all(line.endswith("\n") for line in lines)
    objects = [json.loads(line) for line in lines]
    assert sorted(o["path"] for o in objects) == ["/b/", "=1"]
    assert set(objects[0]) == set(export.FIELDS)


@pytest.mark.django_db
def test_rows_are_read_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int | None] = []
    original = type(stats.select().values_list("pk")).iterator

    def spy(self, chunk_size=None):
        seen.append(chunk_size)
        return original(self, chunk_size=chunk_size)

    monkeypatch.setattr(type(stats.select().values_list("pk")), "iterator", spy)
    make_hit()
    assert len(list(export.rows(stats.select()))) == 1
    assert seen == [export.CHUNK_SIZE]
