from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from django.test import override_settings

from lambdactr_django.checks import check_settings

URL = "redis://127.0.0.1:6379/5"


def ids(**settings: Any) -> list[str]:
    with override_settings(**settings):
        return [message.id for message in check_settings() if message.id]


def test_a_broker_with_a_spool_passes(tmp_path) -> None:
    assert ids(LAMBDACTR_INGEST_URL=URL, LAMBDACTR_SPOOL_DIR=str(tmp_path)) == []


@pytest.mark.parametrize("value", ["127.0.0.1:6379", "http://redis/", 6379, ""])
def test_e801_ingest_url(value: object, tmp_path) -> None:
    assert ids(LAMBDACTR_INGEST_URL=value, LAMBDACTR_SPOOL_DIR=str(tmp_path)) == [
        "lambdactr_django.E801"
    ]


def test_e802_a_broker_needs_a_spool_dir() -> None:
    assert ids(LAMBDACTR_INGEST_URL=URL, LAMBDACTR_SPOOL_DIR=None) == ["lambdactr_django.E802"]


def test_e803_a_broker_needs_redis_py(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "redis" else real(name, *a)
    )
    assert ids(LAMBDACTR_INGEST_URL=URL, LAMBDACTR_SPOOL_DIR=str(tmp_path)) == [
        "lambdactr_django.E803"
    ]


@pytest.mark.parametrize("value", ["", "  ", None, 5, "x" * 201])
def test_e804_stream(value: object) -> None:
    assert ids(LAMBDACTR_INGEST_STREAM=value) == ["lambdactr_django.E804"]


@pytest.mark.parametrize("value", [0, -1, "1000", True, 1.5])
def test_e805_max_length(value: object) -> None:
    assert ids(LAMBDACTR_INGEST_MAX_LENGTH=value) == ["lambdactr_django.E805"]


@pytest.mark.parametrize("value", [0, -1, 6, "0.25", None, True])
def test_e806_timeout(value: object) -> None:
    assert ids(LAMBDACTR_INGEST_TIMEOUT=value) == ["lambdactr_django.E806"]


@pytest.mark.parametrize("value", [0, -1, 86401, "60", None])
def test_e807_claim_seconds(value: object) -> None:
    assert ids(LAMBDACTR_INGEST_CLAIM_SECONDS=value) == ["lambdactr_django.E807"]
