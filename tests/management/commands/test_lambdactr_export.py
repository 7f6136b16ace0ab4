from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from lambdactr_django.management.commands import lambdactr_export
from lambdactr_django.stats import export
from tests.hits import make_hit

pytestmark = pytest.mark.django_db


def test_it_writes_every_hit_with_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lambdactr_export, "PROGRESS_EVERY", 2)
    for n in range(5):
        make_hit(days_ago=n, path=f"/{n}/")
    target = tmp_path / "hits.csv"

    call_command("lambdactr_export", str(target))

    rows = list(csv.DictReader(target.open()))
    assert sorted(row["path"] for row in rows) == [f"/{n}/" for n in range(5)]
    assert list(rows[0]) == list(export.FIELDS)
    out = capsys.readouterr().out
    assert "  2 hits written" in out
    assert "  4 hits written" in out
    assert f"Wrote 5 hits to {target}" in out
    assert not (tmp_path / "hits.csv.partial").exists()


def test_it_selects_by_site_and_days_and_writes_json_lines(tmp_path: Path) -> None:
    make_hit(days_ago=0, path="/kept/")
    make_hit(days_ago=0, site="other.example", path="/other/")
    make_hit(days_ago=30, path="/old/")
    target = tmp_path / "hits.jsonl"

    call_command(
        "lambdactr_export", str(target), "--format", "jsonl",
        "--site", "blog.example", "--since", "2000-01-01", "--until", "9999-12-31",
    )  # fmt: skip

    paths = [json.loads(line)["path"] for line in target.read_text().splitlines()]
    assert sorted(paths) == ["/kept/", "/old/"]


def test_an_interrupted_export_never_looks_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_hit()

    def interrupted(queryset: object) -> object:
        yield from []
        raise KeyboardInterrupt

    monkeypatch.setattr(export, "rows", interrupted)
    target = tmp_path / "hits.csv"
    with pytest.raises(CommandError, match="incomplete"):
        call_command("lambdactr_export", str(target))

    assert not target.exists()
    assert (tmp_path / "hits.csv.partial").exists()


@pytest.mark.parametrize("value", ["yesterday", "2026-02-30", "0"])
def test_a_malformed_day_is_a_clear_error(tmp_path: Path, value: str) -> None:
    with pytest.raises(CommandError, match="should be a day"):
        call_command("lambdactr_export", str(tmp_path / "x.csv"), "--since", value)
