"""A long log is imported in bounded memory: four times the lines, not four times the memory.

bench/import_log.py does the same with a million lines and reports the
lines per second and the process's peak RSS.
"""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path

import pytest
from django.core.management import call_command

from lambdactr_django.models import HeaderHit
from tests.logs.sample import generate, write

pytestmark = pytest.mark.django_db


def _import(log: Path) -> None:
    call_command(
        "lambdactr_import_log",
        str(log),
        "--site",
        "blog.example",
        "--batch-size",
        "500",
        stdout=io.StringIO(),
    )


def _peak(log: Path) -> int:
    tracemalloc.start()
    try:
        _import(log)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_log(tmp_path: Path) -> None:
    # Fills the caches (user agents, times, referrers), which are bounded.
    _import(write(tmp_path / "warm.log", generate(2_000, seed=2, days=1)))
    short = _peak(write(tmp_path / "short.log", generate(3_000, seed=3, days=1)))
    long = _peak(write(tmp_path / "long.log", generate(12_000, seed=4, days=4)))

    assert HeaderHit.objects.count() > 9_000
    # Holding the long log's hits (about 2 KB each as objects) would take 13 MB.
    assert long < short * 1.25 + 512 * 1024, (short, long)
