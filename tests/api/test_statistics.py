"""api/statistics.json: who may read it, what it answers, and how it refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.serializers.json import DjangoJSONEncoder
from django.test import Client, override_settings
from django.urls import reverse

from lambdactr_django import days
from lambdactr_django.models import ApiToken
from tests.api.conftest import URL, bearer, reader
from tests.hits import GOOGLEBOT, make_hit

pytestmark = pytest.mark.django_db
STATISTICS_PAGE = "/admin/lambdactr_django/headerhit/statistics/"


def _data() -> None:
    make_hit(path="/a/", days_ago=0)
    make_hit(
        path="/a/", days_ago=1, referrer="https://news.example/x", referrer_host="news.example"
    )
    make_hit(path="/b/", days_ago=3)
    make_hit(kind="visitor", days_ago=1)
    make_hit(site="other.example", path="/c/", days_ago=2)
    make_hit(path="/bot/", user_agent=GOOGLEBOT, is_bot=True, bot_reason="crawler", device="bot")
    make_hit(path="/forged/", verified=False)


def _json_of(report: Any) -> dict[str, Any]:
    return json.loads(json.dumps(report.to_dict(), cls=DjangoJSONEncoder))


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_the_url_is_named() -> None:
    assert reverse("lambdactr:api_statistics") == URL
    assert reverse("lambdactr:api_openapi") == "/ctr/api/openapi.json"


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?when=7d",
        "?when=today&traffic=all",
        "?site=blog.example&kind__exact=view",
        "?since=2000-01-01&until=2100-01-01&verified=all",
        "?traffic=bot",
        "?verified=no",
    ],
)
def test_a_token_reads_the_numbers_the_page_shows(
    client: Client, admin_client: Client, secret: str, query: str
) -> None:
    _data()
    page = admin_client.get(STATISTICS_PAGE + query)
    answer = client.get(URL + query, **bearer(secret))

    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/json"
    body = answer.json()
    assert body["version"] == 1
    assert body["report"] == _json_of(page.context["report"])


def test_the_answer_counts_what_was_stored(client: Client, secret: str) -> None:
    _data()
    body = client.get(URL + "?when=7d&site=blog.example", **bearer(secret)).json()
    report = body["report"]

    assert body["selection"] == {"site": "blog.example", "kind": None, "verified": True}
    assert (report["views"], report["visitors"], report["hits"]) == (3, 1, 4)
    assert [(r["label"], r["views"]) for r in report["pages"]] == [
        ("blog.example/a/", 2),
        ("blog.example/b/", 1),
    ]
    assert [r["label"] for r in report["referrers"]] == ["news.example"]
    assert len(report["days"]) == 7
    assert report["start"] == report["days"][0]["day"]
    # ISO dates, as the schema says.
    assert report["end"] == days.today().isoformat()


def test_no_hit_level_data_nor_headers(client: Client, secret: str) -> None:
    make_hit(headers={"User-Agent": "Secret-UA/1.0", "Accept-Language": "xx"})
    answer = client.get(URL + "?verified=all&traffic=all", **bearer(secret))

    text = answer.content.decode()
    assert not _keys(answer.json()) & {"headers", "user_agent", "id", "created_at", "referrer"}
    assert "Secret-UA" not in text
    assert secret not in text


def test_a_staff_session_with_the_permission_reads(client: Client) -> None:
    client.force_login(reader())
    answer = client.get(URL)
    assert answer.status_code == 200
    assert answer["Cache-Control"] == "private, no-store"


def test_a_superuser_session_reads(admin_client: Client) -> None:
    assert admin_client.get(URL).status_code == 200


@pytest.mark.parametrize(
    ("staff", "allowed"), [(True, False), (False, True), (False, False)], ids=str
)
def test_a_session_without_staff_and_permission_is_forbidden(
    client: Client, staff: bool, allowed: bool
) -> None:
    client.force_login(reader(staff=staff, allowed=allowed))
    answer = client.get(URL)

    assert answer.status_code == 403
    assert answer.json()["error"]["status"] == 403
    assert "WWW-Authenticate" not in answer


def test_anonymous_gets_a_challenge(client: Client) -> None:
    answer = client.get(URL)

    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == 'Bearer realm="lambdactr"'
    assert answer["Cache-Control"] == "private, no-store"
    assert "Bearer" in answer.json()["error"]["message"]
    assert client.get(URL, HTTP_AUTHORIZATION="Bearer\ttab").status_code == 401


@pytest.mark.parametrize("header", ["Bearer", "Bearer    ", "bearer "])
def test_a_bearer_without_a_token_is_an_invalid_request(
    client: Client, db: None, header: str
) -> None:
    answer = client.get(URL, HTTP_AUTHORIZATION=header)

    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == 'Bearer realm="lambdactr", error="invalid_request"'


@pytest.mark.parametrize("header", ["Basic cmVhZGVyOnB3", "lctr_x", "Token abc"])
def test_other_schemes_are_left_to_the_session(
    client: Client, admin_client: Client, db: None, header: str
) -> None:
    # A proxy's Basic login in front of the admin must not lock its staff out.
    assert admin_client.get(URL, HTTP_AUTHORIZATION=header).status_code == 200
    anonymous = client.get(URL, HTTP_AUTHORIZATION=header)
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == 'Bearer realm="lambdactr"'


@pytest.mark.parametrize("wrong", ["lctr_" + "A" * 43, "not-a-token", "lctr_" + "x" * 500])
def test_an_unknown_token_is_invalid(client: Client, secret: str, wrong: str) -> None:
    answer = client.get(URL, **bearer(wrong))

    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == 'Bearer realm="lambdactr", error="invalid_token"'


def test_a_bad_token_is_refused_even_with_a_session(admin_client: Client, db: None) -> None:
    # A script's broken token must fail loudly, not fall back on a browser's session.
    assert admin_client.get(URL, **bearer("lctr_nope")).status_code == 401


def test_a_revoked_token_reads_nothing(client: Client, secret: str) -> None:
    assert client.get(URL, **bearer(secret)).status_code == 200
    ApiToken.objects.update(revoked_at="2026-01-01T00:00:00Z")

    answer = client.get(URL, **bearer(secret))
    assert answer.status_code == 401
    assert "revoked" in answer.json()["error"]["message"]


def test_a_token_of_an_inactive_user_reads_nothing(
    client: Client, token_user: User, secret: str
) -> None:
    token_user.is_active = False
    token_user.save()

    answer = client.get(URL, **bearer(secret))
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"].endswith('error="invalid_token"')


def test_a_token_of_a_user_who_lost_the_permission_is_forbidden(
    client: Client, token_user: User, secret: str
) -> None:
    token_user.user_permissions.remove(Permission.objects.get(codename="view_headerhit"))

    answer = client.get(URL, **bearer(secret))
    assert answer.status_code == 403
    assert "view_headerhit" in answer.json()["error"]["message"]


def test_a_token_of_a_user_no_longer_staff_is_forbidden(
    client: Client, token_user: User, secret: str
) -> None:
    token_user.is_staff = False
    token_user.save()
    assert client.get(URL, **bearer(secret)).status_code == 403


def test_a_token_records_when_it_was_last_used(client: Client, secret: str) -> None:
    assert ApiToken.objects.get().last_used_at is None
    client.get(URL, **bearer(secret))
    assert ApiToken.objects.get().last_used_at is not None


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("?when=fortnight", "when"),
        ("?since=2025-02-30", "since"),
        ("?until=soon", "until"),
        ("?traffic=robots", "traffic"),
        ("?kind__exact=click", "kind__exact"),
        ("?verified=maybe", "verified"),
        ("?q=search", "q"),
        ("?browser=Chrome", "browser"),
        ("?site=a.example&site=b.example", "site"),
        ("?site=a%00b", "NUL"),
    ],
)
def test_bad_parameters_are_a_bad_request(
    client: Client, secret: str, query: str, named: str
) -> None:
    answer = client.get(URL + query, **bearer(secret))

    assert answer.status_code == 400
    assert answer["Cache-Control"] == "private, no-store"
    assert named in answer.json()["error"]["message"]


def test_empty_parameters_select_nothing(client: Client, secret: str) -> None:
    # As the page's forms send them.
    assert client.get(URL + "?since=&until=&q=", **bearer(secret)).status_code == 200
    assert client.get(URL + "?traffic=", **bearer(secret)).status_code == 400


@override_settings(LAMBDACTR_API_RATE_LIMIT=2)
def test_each_token_has_its_share_a_minute(client: Client, secret: str) -> None:
    other = reader("other")
    from lambdactr_django.api import tokens

    _, second = tokens.create(other)
    assert [client.get(URL, **bearer(secret)).status_code for _ in range(2)] == [200, 200]

    refused = client.get(URL, **bearer(secret))
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["error"]["status"] == 429
    assert client.get(URL, **bearer(second)).status_code == 200


@override_settings(LAMBDACTR_API_RATE_LIMIT=1)
def test_a_session_has_its_share_too(admin_client: Client) -> None:
    assert admin_client.get(URL).status_code == 200
    assert admin_client.get(URL).status_code == 429


@override_settings(LAMBDACTR_API_RATE_LIMIT=None)
def test_the_limit_can_be_turned_off(client: Client, secret: str) -> None:
    assert {client.get(URL, **bearer(secret)).status_code for _ in range(5)} == {200}


@override_settings(LAMBDACTR_API_RATE_LIMIT=1, LAMBDACTR_RATE_LIMIT_CACHE="missing")
def test_a_broken_cache_lets_requests_through(client: Client, secret: str) -> None:
    assert [client.get(URL, **bearer(secret)).status_code for _ in range(2)] == [200, 200]


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_only_get_and_head(client: Client, secret: str, method: str) -> None:
    answer = getattr(client, method)(URL, **bearer(secret))

    assert answer.status_code == 405
    assert answer["Allow"] == "GET, HEAD"
    assert answer.json()["error"]["status"] == 405


def test_head_answers_as_get(client: Client, secret: str) -> None:
    answer = client.head(URL, **bearer(secret))
    assert answer.status_code == 200
    assert answer["Cache-Control"] == "private, no-store"


def test_fields_a_report_gains_appear_without_code_changes(
    client: Client, secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lambdactr_django.stats import Report

    counted = Report.to_dict
    monkeypatch.setattr(
        Report, "to_dict", lambda self: {**counted(self), "countries": [{"label": "NZ"}]}
    )
    report = client.get(URL, **bearer(secret)).json()["report"]

    assert report["countries"] == [{"label": "NZ"}]
