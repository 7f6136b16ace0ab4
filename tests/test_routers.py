from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import Client, override_settings

from lambdactr_django.hits import Hit
from lambdactr_django.models import HeaderHit
from lambdactr_django.routers import CounterRouter
from lambdactr_django.store import rows, spool
from tests.hits import STYLESHEET_HEADERS, make_hit

ROUTER = "lambdactr_django.routers.CounterRouter"
BOTH = ["default", "counter"]


@pytest.fixture
def on_counter() -> Iterator[None]:
    with override_settings(LAMBDACTR_DATABASE="counter", DATABASE_ROUTERS=[ROUTER]):
        yield


def _count(alias: str) -> int:
    return HeaderHit.objects.using(alias).count()


def _beacon(client: Client, path: str = "/post/") -> None:
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in STYLESHEET_HEADERS.items()}
    headers["HTTP_REFERER"] = f"http://blog.example{path}"
    assert client.get("/ctr/s.css", **headers).status_code == 200


@pytest.mark.django_db(databases=BOTH)
def test_the_beacon_stores_in_the_counter_database_only(on_counter: None, client: Client) -> None:
    _beacon(client)

    assert _count("counter") == 1
    assert _count("default") == 0
    assert HeaderHit.objects.using("counter").get().path == "/post/"


@pytest.mark.django_db(databases=BOTH)
def test_without_the_setting_the_router_leaves_hits_on_default(client: Client) -> None:
    with override_settings(DATABASE_ROUTERS=[ROUTER]):
        _beacon(client)

    assert (_count("default"), _count("counter")) == (1, 0)


@pytest.mark.django_db(databases=BOTH)
def test_the_write_alias_takes_the_beacon_and_the_rest_reads_elsewhere(client: Client) -> None:
    with override_settings(
        LAMBDACTR_DATABASE="default", LAMBDACTR_BEACON_DATABASE="counter", DATABASE_ROUTERS=[ROUTER]
    ):
        _beacon(client)
        assert HeaderHit.objects.count() == 0  # read through the router: default

    assert _count("counter") == 1


@pytest.mark.django_db(databases=BOTH)
def test_spooled_hits_are_replayed_into_the_counter_database(
    on_counter: None, tmp_path: Path
) -> None:
    with override_settings(LAMBDACTR_SPOOL_DIR=str(tmp_path)):
        new = [
            rows.new_row(
                Hit(site="blog.example", path=f"/{n}/", referrer="", user_agent="", verified=True)
            )
            for n in range(3)
        ]
        spool.append(new)
        spool.append(new[:1])  # spooled twice: stored once
        call_command("lambdactr_replay", stdout=io.StringIO())

    assert _count("counter") == 3
    assert _count("default") == 0


@pytest.mark.django_db(databases=BOTH)
def test_the_admin_lists_and_counts_the_counter_database(
    on_counter: None, admin_client: Client
) -> None:
    for path in ("/on-counter-a/", "/on-counter-b/"):
        HeaderHit.objects.using("counter").create(site="blog.example", path=path)
    HeaderHit.objects.using("default").create(site="blog.example", path="/not-here/")

    hit_list = admin_client.get("/admin/lambdactr_django/headerhit/").content.decode()
    statistics = admin_client.get("/admin/lambdactr_django/headerhit/statistics/")
    export = admin_client.get("/admin/lambdactr_django/headerhit/export/jsonl/")

    assert "/on-counter-a/" in hit_list
    assert "/on-counter-b/" in hit_list
    assert "/not-here/" not in hit_list
    assert statistics.context["report"].views == 2
    lines = b"".join(export.streaming_content).decode().splitlines()  # type: ignore[attr-defined]
    assert sorted(json.loads(line)["path"] for line in lines) == [
        "/on-counter-a/",
        "/on-counter-b/",
    ]


@pytest.mark.django_db(databases=BOTH)
def test_the_admin_deletes_from_the_counter_database(
    on_counter: None, admin_client: Client
) -> None:
    hit = HeaderHit.objects.using("counter").create(site="blog.example", path="/a/")

    response = admin_client.post(
        f"/admin/lambdactr_django/headerhit/{hit.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 302
    assert _count("counter") == 0


@pytest.mark.django_db(databases=BOTH)
def test_report_reads_the_counter_database(on_counter: None) -> None:
    make_hit(path="/counted/")
    out = io.StringIO()
    call_command("lambdactr_report", "--format", "json", stdout=out)

    assert json.loads(out.getvalue())["views"] == 1
    assert (_count("counter"), _count("default")) == (1, 0)


@pytest.mark.django_db(databases=BOTH)
def test_prune_deletes_from_the_counter_database(on_counter: None) -> None:
    make_hit(days_ago=10, path="/old/")
    make_hit(path="/new/")
    HeaderHit.objects.using("default").create(site="blog.example", path="/default/")

    call_command("lambdactr_prune", "--days", "2", stdout=io.StringIO())

    assert list(HeaderHit.objects.using("counter").values_list("path", flat=True)) == ["/new/"]
    assert _count("default") == 1


@pytest.mark.django_db(databases=BOTH)
def test_reclassify_updates_the_counter_database(on_counter: None) -> None:
    hit = make_hit(browser="", os="", device="other")

    call_command("lambdactr_reclassify", stdout=io.StringIO())

    assert HeaderHit.objects.using("counter").get(pk=hit.pk).browser == "Chrome"


def test_reads_and_writes_of_other_apps_are_not_routed() -> None:
    from django.contrib.auth.models import User

    with override_settings(LAMBDACTR_DATABASE="counter"):
        router = CounterRouter()
        assert router.db_for_read(HeaderHit) == "counter"
        assert router.db_for_write(HeaderHit) == "counter"
        assert router.db_for_read(User) is None
        assert router.db_for_write(User) is None
        assert router.allow_relation(HeaderHit(), HeaderHit()) is True
        assert router.allow_relation(HeaderHit(), User()) is None


def test_without_the_setting_the_router_has_no_opinion() -> None:
    router = CounterRouter()
    assert router.db_for_read(HeaderHit) is None
    assert router.db_for_write(HeaderHit) is None
    assert router.allow_relation(HeaderHit(), HeaderHit()) is None
    assert router.allow_migrate("counter", "lambdactr_django", "headerhit") is None


def test_the_counter_migrates_only_on_its_database() -> None:
    with override_settings(LAMBDACTR_DATABASE="counter"):
        router = CounterRouter()
        assert router.allow_migrate("counter", "lambdactr_django", "headerhit") is True
        assert router.allow_migrate("default", "lambdactr_django", "headerhit") is False
        assert router.allow_migrate("default", "auth", "user") is None
        assert router.allow_migrate("counter", "auth", "user") is None


# transaction: SQLite's schema editor refuses to run inside the test's transaction.
@pytest.mark.django_db(databases=BOTH, transaction=True)
def test_migrate_creates_the_table_only_on_the_counter_database(on_counter: None) -> None:
    def sql(alias: str) -> str:
        out = io.StringIO()
        call_command("sqlmigrate", "lambdactr_django", "0001", database=alias, stdout=out)
        return out.getvalue()

    assert "CREATE TABLE" in sql("counter")
    assert "CREATE TABLE" not in sql("default")
    # The test databases were migrated before the router was on: both have it.
    assert "lambdactr_django_headerhit" in connections["counter"].introspection.table_names()


def test_api_tokens_stay_with_the_users() -> None:
    from lambdactr_django.models import ApiToken

    with override_settings(LAMBDACTR_DATABASE="counter"):
        router = CounterRouter()
        assert router.db_for_read(ApiToken) is None
        assert router.db_for_write(ApiToken) is None
        assert router.allow_migrate("counter", "lambdactr_django", "apitoken") is False
        assert router.allow_migrate("default", "lambdactr_django", "apitoken") is None
