from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from tests.hits import make_hit

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("lambdactr_report", *args, stdout=out)
    return out.getvalue()


def _data() -> None:
    make_hit(path="/a/")
    make_hit(path="/a/", days_ago=1)
    make_hit(kind="visitor", path="")
    make_hit(site="other.example", path="/o/")
    make_hit(is_bot=True, bot_reason="crawler")
    make_hit(days_ago=8, path="/old/")


def test_json_counts_the_last_days_of_people() -> None:
    _data()
    data = json.loads(_run("--days", "7", "--format", "json"))
    assert (data["views"], data["visitors"], data["hits"]) == (3, 1, 4)
    assert len(data["days"]) == 7
    assert data["pages"][0] == {
        "label": "blog.example/a/",
        "views": 2,
        # Visitors belong to a site, not to a page: unknown, not zero.
        "visitors": None,
        "lookups": {"site": "blog.example", "path": "/a/"},
        # Exact: nothing was folded away in the rollups.
        "short": 0,
    }


def test_site_and_traffic_options() -> None:
    _data()
    assert json.loads(_run("--site", "other.example", "--format", "json"))["views"] == 1
    assert json.loads(_run("--traffic", "bot", "--format", "json"))["views"] == 1
    assert json.loads(_run("--days", "30", "--format", "json"))["views"] == 4


def test_csv_has_one_row_per_number() -> None:
    _data()
    rows = list(csv.reader(io.StringIO(_run("--days", "2", "--format", "csv"))))
    assert rows[0] == ["section", "label", "views", "visitors"]
    assert ["total", "", "3", "1"] in rows
    assert ["page", "blog.example/a/", "2", ""] in rows
    assert [r for r in rows if r[0] == "day"][-1][2:] == ["2", "1"]


def test_csv_neutralises_labels() -> None:
    make_hit(browser="=1+2")
    rows = list(csv.reader(io.StringIO(_run("--format", "csv"))))
    assert ["browser", "'=1+2", "1", "0"] in rows


def test_text_is_readable() -> None:
    _data()
    text = _run("--days", "7")
    assert "3 views, 1 visitors" in text
    assert "Top pages" in text
    assert "blog.example/a/" in text


@pytest.mark.parametrize("args", [["--days", "0"], ["--limit", "0"]])
def test_bad_numbers_are_refused(args: list[str]) -> None:
    with pytest.raises(CommandError):
        _run(*args)


def test_help_explains() -> None:
    from lambdactr_django.management.commands.lambdactr_report import Command

    assert "visitors" in Command.help
