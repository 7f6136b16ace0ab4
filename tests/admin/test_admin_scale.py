from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lambdactr_django.admin import filters as hit_admin
from lambdactr_django.admin.hit_list import HeaderHitAdmin
from lambdactr_django.admin.paginator import EstimatedCountPaginator
from lambdactr_django.models import HeaderHit
from tests.hits import make_hit

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:lambdactr_django_headerhit_changelist")
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="estimates come from PostgreSQL's planner"
)
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's exact count")


def analyze() -> None:
    # The planner's estimate comes from the statistics ANALYZE gathers.
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {HeaderHit._meta.db_table}")


def planned_rows(sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
    return int(plan[0]["Plan"]["Plan Rows"])


def test_count_is_exact_below_the_threshold() -> None:
    for _ in range(3):
        make_hit()
    paginator = EstimatedCountPaginator(HeaderHit.objects.all(), 2)

    assert paginator.count == 3
    assert paginator.estimated is False


@postgresql_only
def test_count_is_the_planners_estimate_above_the_threshold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for _ in range(7):
        make_hit()
    analyze()
    monkeypatch.setattr(EstimatedCountPaginator, "exact_below", 1)
    paginator = EstimatedCountPaginator(HeaderHit.objects.filter(site="blog.example"), 2)

    with CaptureQueriesContext(connection) as queries:
        count = paginator.count

    table = HeaderHit._meta.db_table
    assert count == planned_rows(f"SELECT * FROM {table} WHERE site = 'blog.example'")
    assert count > 0
    assert paginator.estimated is True
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["EXPLAIN"]
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)


@postgresql_only
def test_estimate_is_not_used_below_the_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(7):
        make_hit()
    analyze()
    make_hit()  # not in the statistics yet: only an exact count sees it

    paginator = EstimatedCountPaginator(HeaderHit.objects.all(), 2)

    assert paginator.count == 8
    assert paginator.estimated is False


@sqlite_only
def test_count_is_always_exact_on_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(3):
        make_hit()
    monkeypatch.setattr(EstimatedCountPaginator, "exact_below", 0)
    paginator = EstimatedCountPaginator(HeaderHit.objects.all(), 2)

    assert paginator.count == 3
    assert paginator.estimated is False


def test_rounded_count_has_three_significant_figures() -> None:
    paginator = EstimatedCountPaginator([], 10)
    paginator.count = 10_437_219  # type: ignore[misc]

    assert paginator.rounded_count == "10,400,000"


def test_hit_list_says_the_exact_count_without_about(admin_client: Client) -> None:
    for _ in range(3):
        make_hit()

    response = admin_client.get(CHANGELIST)

    assert response.context["cl"].result_count == 3
    assert "3 hits" in response.content.decode()
    assert "about" not in response.content.decode()


@postgresql_only
def test_hit_list_shows_and_pages_through_an_estimate(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = {f"/{n}" for n in range(6)}
    for path in paths:
        make_hit(path=path)
    analyze()
    monkeypatch.setattr(EstimatedCountPaginator, "exact_below", 1)
    monkeypatch.setattr(HeaderHitAdmin, "list_per_page", 2)

    first = admin_client.get(CHANGELIST)
    second = admin_client.get(f"{CHANGELIST}?p=2")

    cl = first.context["cl"]
    assert cl.paginator.estimated is True
    assert f"about {cl.paginator.rounded_count} hits" in first.content.decode()
    assert f"about {cl.paginator.rounded_count} results" in first.content.decode()
    shown = [hit.path for hit in first.context["cl"].result_list]
    shown += [hit.path for hit in second.context["cl"].result_list]
    assert len(shown) == 4
    assert set(shown) <= paths
    assert len(set(shown)) == 4


def _filter_values(response: object, title: str) -> set[str]:
    spec = next(s for s in response.context["cl"].filter_specs if s.title == title)  # type: ignore[attr-defined]
    return {c["display"] for c in spec.choices(response.context["cl"])} - {"All"}  # type: ignore[attr-defined]


def test_filters_list_the_values_of_recent_hits(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_hit(days_ago=300, site="old.example", browser="Old Browser", os="OldOS", path="/old")
    make_hit(days_ago=1, site="new.example", browser="Firefox", os="Linux", path="/a")
    make_hit(days_ago=0, site="blog.example", browser="Chrome", os="Windows", path="/b")
    monkeypatch.setattr(hit_admin, "RECENT_HITS", 2)

    response = admin_client.get(CHANGELIST)

    assert _filter_values(response, "site") == {"new.example", "blog.example"}
    assert _filter_values(response, "browser") == {"Firefox", "Chrome"}
    assert _filter_values(response, "OS") == {"Linux", "Windows"}


def test_a_page_reads_the_latest_hits_values_once(admin_client: Client) -> None:
    # The site, browser and OS filters share one read, and the hidden-hits note's
    # change list, which lists no choices, none.
    make_hit(browser="Chrome")
    make_hit(browser="Firefox", is_bot=True)
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(CHANGELIST, {"site": "blog.example", "q": "/"})
    assert _filter_values(response, "browser") == {"Chrome", "Firefox"}
    distinct = [q["sql"] for q in captured.captured_queries if "SELECT DISTINCT" in q["sql"]]
    assert len(distinct) == 1, distinct


def test_filters_list_every_value_while_there_are_few_hits(admin_client: Client) -> None:
    make_hit(days_ago=300, site="old.example", browser="Old Browser")
    make_hit(days_ago=0, browser="Chrome")

    response = admin_client.get(CHANGELIST)

    assert _filter_values(response, "site") == {"old.example", "blog.example"}
    assert _filter_values(response, "browser") == {"Old Browser", "Chrome"}


@pytest.mark.parametrize(
    ("query", "title", "value"),
    [
        ("site=old.example", "site", "old.example"),
        ("browser=Old+Browser", "browser", "Old Browser"),
    ],
)
def test_a_chosen_older_value_still_filters_exactly(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch, query: str, title: str, value: str
) -> None:
    make_hit(days_ago=300, site="old.example", browser="Old Browser", path="/old")
    make_hit(days_ago=200, site="old.example", browser="Old Browser", path="/older")
    for n in range(3):
        make_hit(days_ago=0, path=f"/new{n}")
    monkeypatch.setattr(hit_admin, "RECENT_HITS", 2)

    response = admin_client.get(f"{CHANGELIST}?{query}")

    assert {hit.path for hit in response.context["cl"].result_list} == {"/old", "/older"}
    spec = next(s for s in response.context["cl"].filter_specs if s.title == title)
    selected = [c["display"] for c in spec.choices(response.context["cl"]) if c["selected"]]
    assert selected == [value]
