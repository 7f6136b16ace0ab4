"""Extreme or malformed dates give a clamped range, never a 500 (issue 11, findings 6, 7)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from tests.hits import make_hit

pytestmark = pytest.mark.django_db

ADMIN = "/admin/lambdactr_django/headerhit/"
PAGES = [f"{ADMIN}statistics/", ADMIN, f"{ADMIN}export/csv/", f"{ADMIN}export/jsonl/"]
QUERIES = [
    "until=9999-12-31",
    "since=0001-01-02&until=0001-01-03",
    "since=0001-01-01&until=9999-12-31",
    "since=9999-12-31",
    "until=0001-01-01",
    "since=9999-12-31&until=0001-01-01",
    "since=2026-02-30",
    "since=99999-01-01",
]


@pytest.fixture
def admin_client(client: Client, django_user_model) -> Client:  # type: ignore[no-untyped-def]
    client.force_login(django_user_model.objects.create_superuser("admin", "a@a.example", "pw"))
    make_hit(days_ago=0, path="/today/")
    make_hit(days_ago=3, path="/earlier/")
    return client


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("query", QUERIES)
def test_extreme_dates_are_clamped_not_a_server_error(
    admin_client: Client, page: str, query: str
) -> None:
    response = admin_client.get(f"{page}?{query}")

    assert response.status_code in (200, 302)


def test_the_widest_range_counts_every_hit(admin_client: Client) -> None:
    response = admin_client.get(f"{ADMIN}statistics/?since=0001-01-01&until=9999-12-31")

    assert response.context["report"].views == 2


def test_report_for_a_million_days_is_every_day_since_1970(
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_hit(days_ago=1)

    call_command("lambdactr_report", "--days", "1000000", "--format", "json")

    out = capsys.readouterr().out
    assert '"start": "1970-01-01"' in out
    assert '"views": 1' in out


def test_prune_keeping_a_million_days_deletes_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_hit(days_ago=1)

    call_command("lambdactr_prune", "--days", "1000000", "--dry-run")

    assert "Would delete 0 hits" in capsys.readouterr().out


@override_settings(LAMBDACTR_EXPORT_MAX_ROWS=1)
def test_a_download_too_big_for_a_server_timeout_is_refused_with_the_command(
    admin_client: Client,
) -> None:
    response = admin_client.get(f"{ADMIN}export/csv/?site=blog.example", follow=True)

    assert response.redirect_chain == [(f"{ADMIN}?site=blog.example", 302)]
    assert "lambdactr_export" in response.content.decode()


@override_settings(LAMBDACTR_EXPORT_MAX_ROWS=2)
def test_a_download_within_the_bound_streams(admin_client: Client) -> None:
    response = admin_client.get(f"{ADMIN}export/csv/")

    assert response.status_code == 200
    assert len(b"".join(response.streaming_content).splitlines()) == 3


def test_seed_refuses_more_days_than_the_calendar_holds() -> None:
    with pytest.raises(CommandError, match="at most 36500"):
        call_command("lambdactr_seed", "--hits", "1", "--days", "1000000", "--yes")
