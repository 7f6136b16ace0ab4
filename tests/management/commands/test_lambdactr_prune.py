from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from lambdactr_django.models import HeaderHit
from tests.hits import make_hit

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("lambdactr_prune", *args, stdout=out)
    return out.getvalue()


def _data() -> None:
    for days_ago in (0, 1, 2, 3, 10):
        make_hit(days_ago=days_ago, path=f"/{days_ago}/")


def test_keeps_the_last_n_days() -> None:
    _data()
    _run("--days", "2")
    assert sorted(HeaderHit.objects.values_list("path", flat=True)) == ["/0/", "/1/"]


def test_dry_run_deletes_nothing() -> None:
    _data()
    assert "Would delete 3 hits" in _run("--days", "2", "--dry-run")
    assert HeaderHit.objects.count() == 5


def test_deletes_in_batches_and_shows_progress() -> None:
    _data()
    out = _run("--days", "1", "--batch-size", "2")
    assert "Deleted 2 of 4 hits" in out
    assert "Deleted 4 of 4 hits" in out
    assert HeaderHit.objects.count() == 1


@override_settings(LAMBDACTR_RETENTION_DAYS=3)
def test_defaults_to_the_retention_setting() -> None:
    _data()
    _run()
    assert HeaderHit.objects.count() == 3


def test_needs_a_number_of_days() -> None:
    with pytest.raises(CommandError, match="LAMBDACTR_RETENTION_DAYS"):
        _run()


def test_an_interruption_keeps_finished_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    _data()
    calls = 0
    original = HeaderHit.objects.filter

    def interrupt_second_batch(*args, **kwargs):
        nonlocal calls
        if "pk__in" in kwargs:
            calls += 1
            if calls == 2:
                raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(HeaderHit.objects, "filter", interrupt_second_batch)
    with pytest.raises(CommandError, match="Interrupted after deleting 2 hits"):
        _run("--days", "1", "--batch-size", "2")
    monkeypatch.undo()
    assert HeaderHit.objects.count() == 3
