"""Bad input never yields a 5xx, and what is stored stays bounded.

The request -> hit capture is driven by hypothesis; the whole stack (middleware,
view, admin, tag, commands) by the test client with the inputs a browser
would never send. What a test client cannot send is in tests/load/test_raw_requests.py.
"""

from __future__ import annotations

import contextlib
import string
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.template import Context, Template
from django.test import Client, RequestFactory, override_settings
from hypothesis import HealthCheck, given, settings, strategies as st

from lambdactr_django.beacon.signing import sign_page
from lambdactr_django.conf import conf
from lambdactr_django.hits import (
    MAX_PATH_LENGTH,
    MAX_REFERRER_LENGTH,
    MAX_SITE_LENGTH,
    MAX_USER_AGENT_LENGTH,
    Page,
)
from lambdactr_django.models import HeaderHit

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::UserWarning")]

BEACON = "/ctr/s.css"

# WSGI hands every header and the query over as latin-1 text: any byte at all.
raw_text = st.binary(max_size=3000).map(lambda data: data.decode("latin-1"))
header_names = st.text(string.ascii_letters + string.digits + "_", min_size=1, max_size=40)
headers = st.dictionaries(header_names, raw_text, max_size=120)


def assert_bounded(row: HeaderHit) -> None:
    assert len(row.site) <= MAX_SITE_LENGTH
    assert len(row.path) <= MAX_PATH_LENGTH
    assert len(row.referrer) <= MAX_REFERRER_LENGTH
    assert len(row.user_agent) <= MAX_USER_AGENT_LENGTH
    assert len(row.headers) <= conf.MAX_HEADERS
    for name, value in row.headers.items():
        assert len(value) <= conf.MAX_HEADER_LENGTH
        assert "\x00" not in name + value
    assert "\x00" not in row.site + row.path + row.referrer + row.user_agent


@override_settings(LAMBDACTR_RATE_LIMIT=None)
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(headers=headers, query=raw_text, referer=raw_text)
def test_any_request_is_answered_and_stored_bounded(
    client: Client, headers: dict[str, str], query: str, referer: str
) -> None:
    # Not the Host: it is checked against ALLOWED_HOSTS before anything else
    # (test_missing_or_absurd_host_gets_no_5xx).
    meta = {f"HTTP_{name.upper()}": value for name, value in headers.items()}
    meta.pop("HTTP_HOST", None)
    meta["HTTP_REFERER"] = referer
    before = HeaderHit.objects.count()

    response = client.get(BEACON, QUERY_STRING=query, **meta)

    assert response.status_code == 200
    assert response.content == b""
    # Nothing is lost to bad input: exactly one row, bounded.
    assert HeaderHit.objects.count() == before + 1
    assert_bounded(HeaderHit.objects.order_by("-created_at").first())  # type: ignore[arg-type]


@pytest.fixture
def client(beacon_client: Callable[..., Client]) -> Client:
    return beacon_client(HTTP_USER_AGENT="Mozilla/5.0 bad-input-test")


@pytest.mark.parametrize(
    "method",
    [
        "GET",
        "HEAD",
        "POST",
        "PUT",
        "PATCH",
        "DELETE",
        "OPTIONS",
        "TRACE",
        "CONNECT",
        "PROPFIND",
        "BREW",
    ],
)
def test_every_method_gets_a_non_5xx_answer(client: Client, method: str) -> None:
    response = client.generic(method, BEACON)

    assert response.status_code < 500
    if method in ("GET", "HEAD"):
        assert response.status_code == 200
    else:
        assert response.status_code == 405
    assert HeaderHit.objects.count() == (1 if method == "GET" else 0)


BAD_BEACONS: list[tuple[str, dict[str, Any]]] = [
    ("nul in query", {"QUERY_STRING": "t=%00&x=\x00"}),
    ("malformed percent-encoding", {"QUERY_STRING": "t=%E0%A4%A&%ZZ=%"}),
    ("non-utf-8 query", {"QUERY_STRING": "t=\xff\xfe\xc3\x28"}),
    ("non-utf-8 header", {"HTTP_USER_AGENT": "Moz\xff\xfe\xc3\x28illa", "HTTP_X_ODD": "\xe9"}),
    ("nul in header", {"HTTP_USER_AGENT": "a\x00b", "HTTP_REFERER": "https://b.example/\x00"}),
    ("10 kB referrer path", {"HTTP_REFERER": "https://blog.example/" + "p" * 10_000}),
    ("64 kB referrer", {"HTTP_REFERER": "https://blog.example/?" + "utm_a=b&" * 8_000}),
    ("bad referrer port", {"HTTP_REFERER": "https://blog.example:99999/"}),
    ("bad referrer ipv6", {"HTTP_REFERER": "https://[::1/"}),
    ("malformed referrer escapes", {"HTTP_REFERER": "https://blog.example/%ZZ%C3%28%"}),
    ("1,001 query parameters", {"QUERY_STRING": "&".join(f"p{n}=v" for n in range(1001))}),
    ("1,001 tokens", {"QUERY_STRING": "&".join("t=x" for _ in range(1001))}),
    ("100 headers", {f"HTTP_X_H{n}": "v" * 2000 for n in range(100)}),
    ("forged signature", {"QUERY_STRING": "t=WyJhIiwiYiIsImMiXQ:1abcde:forged"}),
    ("absurd token", {"QUERY_STRING": "t=" + "A" * 100_000}),
    ("empty token", {"QUERY_STRING": "t="}),
    (
        "script everywhere",
        {
            "HTTP_USER_AGENT": "<script>alert(1)</script>",
            "HTTP_REFERER": 'javascript:alert(1)//"><img src=x onerror=alert(1)>',
            "QUERY_STRING": "t=<script>",
        },
    ),
]


@override_settings(LAMBDACTR_RATE_LIMIT=None)
@pytest.mark.parametrize(("case", "meta"), BAD_BEACONS, ids=[case for case, _ in BAD_BEACONS])
def test_bad_beacon_requests_are_answered_and_stored_bounded(
    client: Client, case: str, meta: dict[str, Any]
) -> None:
    response = client.get(BEACON, **meta)

    assert response.status_code == 200
    assert response.content == b""
    row = HeaderHit.objects.get()
    assert_bounded(row)


def test_a_truncated_signature_is_stored_unverified(client: Client) -> None:
    token = sign_page(Page("blog.example", "/post/", ""))

    client.get(BEACON, {"t": token[:-3]}, HTTP_REFERER="https://blog.example/other/")

    row = HeaderHit.objects.get()
    assert (row.verified, row.path) == (False, "/other/")


@pytest.mark.parametrize(
    "host",
    ["", "a" * 300, "evil.example", "bad host", "blog.example:99999", "[::1", "\xff\xfe", "x\x00y"],
)
def test_missing_or_absurd_host_gets_no_5xx(client: Client, host: str) -> None:
    response = client.get(BEACON, HTTP_HOST=host)

    # Django checks the name against ALLOWED_HOSTS, not the port.
    expected = 200 if host == "blog.example:99999" else 400
    assert response.status_code == expected
    assert HeaderHit.objects.count() == (1 if expected == 200 else 0)


@pytest.fixture
def admin_client() -> Client:
    # The admin has one door: Django's.
    client = Client()
    user = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(user)
    HeaderHit.objects.create(site="blog.example", path="/p/", headers={"A": "b"})
    return client


CHANGELIST = "/admin/lambdactr_django/headerhit/"
BAD_ADMIN_QUERIES = [
    "when=xyz",
    "since=2026-13-45&until=abc",
    "since=9999-12-31&until=0001-01-01",
    "since=0001-01-01&until=9999-12-31",
    "since=%00",
    "site=%00",
    "site=" + "s" * 5000,
    "q=%00",
    "q=%ZZ%C3%28",
    "q=" + "q" * 10_000,
    "o=zz",
    "o=1.-2.99",
    "p=-1",
    "p=99999",
    "p=abc",
    "verified=maybe",
    "external=%00",
    "created_at__gte=%00",
    "id=not-a-uuid",
    "headers__a=%00",
    "headers__a=1",
    "path__regex=(",
    "created_at__year=abc",
    "verified__exact=maybe",
    "e=1",
    "_to_field=password",
    "&".join(f"x{n}=1" for n in range(1001)),
]


@pytest.mark.parametrize("query", BAD_ADMIN_QUERIES)
def test_bad_admin_queries_get_no_5xx(admin_client: Client, query: str) -> None:
    response = admin_client.get(f"{CHANGELIST}?{query}")

    assert response.status_code < 500


@pytest.mark.parametrize(
    "path",
    [
        "not-a-uuid/change/",
        "00000000-0000-0000-0000-000000000000/change/",
        "%00/change/",
        "not-a-uuid/delete/",
        "not-a-uuid/history/",
        "x" * 5000 + "/change/",
    ],
)
def test_bad_admin_object_urls_get_no_5xx(admin_client: Client, path: str) -> None:
    response = admin_client.get(CHANGELIST + path)

    assert response.status_code < 500


@pytest.mark.parametrize(
    "meta",
    [
        {"HTTP_HOST": "a" * 300},
        {"HTTP_HOST": "blog.example", "PATH_INFO": "/\x00/" + "p" * 10_000},
        {"HTTP_HOST": "blog.example", "HTTP_REFERER": "https://[::1/\xff"},
        {"HTTP_HOST": "blog.example", "HTTP_REFERER": "x" * 70_000},
    ],
)
def test_the_tag_renders_for_any_request(meta: dict[str, str]) -> None:
    request = RequestFactory().get("/page/", **meta)

    html = Template("{% load lambdactr %}{% tracking_link %}").render(Context({"request": request}))

    assert html.startswith('<link rel="stylesheet" href="/ctr/s.css')
    assert len(html) < 12_000


@override_settings(LAMBDACTR_BASE_URL="https://counter.example")
@pytest.mark.parametrize(
    "url",
    [
        "https://blog.example:99999/",
        "https://[::1/",
        "not a url",
        "https://blog.example/\x00",
        "https://blog.example/%ZZ%C3%28",
        "https://blog.example/" + "p" * 10_000,
        "javascript:alert(1)",
        "",
    ],
)
def test_the_snippet_command_fails_cleanly_on_any_url(url: str) -> None:
    # A CommandError is a clean refusal (exit status 1, a message); anything else fails.
    with contextlib.suppress(CommandError):
        call_command("lambdactr_snippet", url, stdout=_Sink())


class _Sink:
    def write(self, text: str) -> None:
        assert "<script" not in text

    def flush(self) -> None:
        pass
