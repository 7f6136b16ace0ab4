"""The JSON statistics against their published OpenAPI schema, with schemathesis."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client, override_settings
from hypothesis import HealthCheck, settings
from schemathesis import checks

import lambdactr_django.api
from lambdactr_django.admin.filters import DateFilter
from lambdactr_django.api import tokens
from lambdactr_django.hits import Kind
from lambdactr_django.stats import Traffic
from tests.api.conftest import reader
from tests.hits import make_hit

BASE_URL = "http://localhost/ctr/api"
SCHEMA_FILE = Path(lambdactr_django.api.__file__).parent / "openapi.json"
# Loaded from the running app, as a client would: through Django's WSGI handler.
schema = schemathesis.openapi.from_wsgi("/ctr/api/openapi.json", get_wsgi_application())


@pytest.fixture(autouse=True)
def _one_connection() -> Iterator[None]:
    # As Django's test client does: the handler would otherwise close the test's
    # connection (and its transaction) after each request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def data(db: None) -> None:
    make_hit(path="/a/")
    make_hit(path="/b/", days_ago=2, referrer_host="news.example")
    make_hit(kind="visitor", days_ago=1)


@schema.parametrize()
# Bounded: a few dozen requests, seconds in all.
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@override_settings(LAMBDACTR_API_RATE_LIMIT=None)
@pytest.mark.django_db
def test_the_api_keeps_to_its_schema(case: schemathesis.Case, data: None, secret: str) -> None:
    case.call_and_validate(base_url=BASE_URL, headers={"Authorization": f"Bearer {secret}"})


def test_the_served_schema_is_the_file(client: Client) -> None:
    answer = client.get("/ctr/api/openapi.json")

    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/json"
    assert answer.content == SCHEMA_FILE.read_bytes()
    assert answer.json()["openapi"] == "3.1.0"


def _enum(parameter: str) -> set[str]:
    document = json.loads(SCHEMA_FILE.read_text())
    return set(document["components"]["parameters"][parameter]["schema"]["enum"])


def test_the_schema_names_the_choices_the_filters_have() -> None:
    # A preset period or a traffic class added to the page must be added to the schema.
    assert _enum("when") == set(DateFilter.presets)
    assert _enum("traffic") == set(Traffic.LABELS)
    assert _enum("kind") == set(Kind.LABELS)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("authorization", "query", "status"),
    [
        (None, {}, 401),
        ("Bearer lctr_unknown", {}, 401),
        ("Basic eDp5", {}, 401),
        ("token", {"q": "search"}, 400),
        ("token", {"since": "2025-02-30"}, 400),
        ("forbidden", {}, 403),
    ],
)
def test_refusals_keep_to_the_schema_too(
    secret: str, authorization: str | None, query: dict[str, str], status: int
) -> None:
    if authorization == "token":
        authorization = f"Bearer {secret}"
    elif authorization == "forbidden":
        authorization = f"Bearer {tokens.create(reader('nobody', allowed=False))[1]}"
    case = schema["/statistics.json"]["GET"].Case(query=query)
    headers = {} if authorization is None else {"Authorization": authorization}

    response = case.call(base_url=BASE_URL, headers=headers)
    assert response.status_code == status
    # Not the checks about rejecting schema-valid data: these are meant to be refused.
    case.validate_response(response, excluded_checks=[checks.positive_data_acceptance])


@override_settings(LAMBDACTR_API_RATE_LIMIT=1)
@pytest.mark.django_db
def test_the_rate_limit_keeps_to_the_schema(secret: str) -> None:
    case = schema["/statistics.json"]["GET"].Case()
    headers = {"Authorization": f"Bearer {secret}"}
    assert case.call(base_url=BASE_URL, headers=headers).status_code == 200

    response = case.call(base_url=BASE_URL, headers=headers)
    assert response.status_code == 429
    case.validate_response(response)
