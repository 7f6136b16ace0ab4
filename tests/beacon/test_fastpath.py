"""What only the fast path does: answer ahead of Django, and leave the rest to it.

Everything the beacon answers is tested through every door by the other
modules here (the ``door`` fixture); these tests are about the doors themselves.
"""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import crawleruseragents
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import request_finished, request_started
from django.db import connections
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template import Context, Template
from django.test import Client, RequestFactory, override_settings
from django.urls import include, path

from lambdactr_django.beacon import fastpath, warmup
from lambdactr_django.beacon.fastpath import BeaconFastPath, routes
from lambdactr_django.models import HeaderHit
from lambdactr_django.store import database
from tests.beacon.doors import FAST_DOORS, MIDDLEWARE_PATH, FastPathClient
from tests.hits import STYLESHEET_HEADERS

pytestmark = pytest.mark.django_db

EXPLODING = f"{__name__}.ExplodingMiddleware"
COOKIE = f"{__name__}.CookieMiddleware"


class ExplodingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        raise AssertionError(f"a middleware ran for {request.path}")


class CookieMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.cookies["tracker"] = "set-by-a-middleware"
        return response


@pytest.fixture(autouse=True)
def _keep_the_test_transaction(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As the test client does: close_old_connections would end the test's
    # transaction after each answer. The transactional test below lets it run.
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")):
        monkeypatch.setattr(fastpath, "close_old_connections", lambda: None)


def _fast_client(door: str, behind: list[str], **defaults: Any) -> tuple[Client, Any]:
    # The fast door, with ``behind`` the middleware it should spare the hit.
    if door == "wsgi":
        return FastPathClient(**defaults), override_settings(MIDDLEWARE=behind)
    return Client(**defaults), override_settings(MIDDLEWARE=[MIDDLEWARE_PATH, *behind])


@pytest.mark.parametrize("door", FAST_DOORS)
@pytest.mark.parametrize("url", ["/ctr/s.css", "/ctr/d.css", "/ctr/i.gif"])
def test_the_hit_is_answered_before_any_middleware(door: str, url: str) -> None:
    client, middleware = _fast_client(door, [COOKIE, EXPLODING])
    with middleware:
        get = client.get(url, headers=STYLESHEET_HEADERS)
        head = client.head(url, headers=STYLESHEET_HEADERS)

        assert (get.status_code, head.status_code) == (200, 200)
        assert not get.cookies
        assert not head.cookies
        assert HeaderHit.objects.count() == 1
        # The same middleware does run for the rest of the site.
        with pytest.raises(AssertionError, match="a middleware ran for /admin/"):
            client.get("/admin/")


@pytest.mark.parametrize("door", FAST_DOORS)
def test_other_methods_go_on_to_django(door: str) -> None:
    client, middleware = _fast_client(door, [COOKIE, *settings.MIDDLEWARE])
    with middleware:
        response = client.post("/ctr/s.css")

    # The view's own 405, through the middleware.
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert "tracker" in response.cookies
    assert HeaderHit.objects.count() == 0


@pytest.mark.parametrize("door", FAST_DOORS)
def test_a_host_not_allowed_goes_on_to_django(door: str, caplog: pytest.LogCaptureFixture) -> None:
    client, middleware = _fast_client(door, list(settings.MIDDLEWARE))
    with middleware, caplog.at_level(logging.ERROR, logger="django.security.DisallowedHost"):
        response = client.get("/ctr/s.css", headers=STYLESHEET_HEADERS, HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert HeaderHit.objects.count() == 0
    # Logged once, by Django, as without the fast path.
    [record] = caplog.records
    assert "Invalid HTTP_HOST header: 'evil.example'" in record.getMessage()


def _environ(path: str, method: str = "GET", **extra: str) -> dict[str, Any]:
    request = RequestFactory().generic(method, path, headers=STYLESHEET_HEADERS, **extra)
    return {**request.META, "wsgi.input": io.BytesIO()}


class _Django:
    # Stands in for Django's WSGI handler: says whether it was called.
    def __init__(self) -> None:
        self.environs: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.environs.append(environ)
        start_response("418 I'm a teapot", [])
        return [b"django"]


def _serve(
    app: BeaconFastPath, environ: dict[str, Any]
) -> tuple[str, list[tuple[str, str]], bytes]:
    started: list[tuple[str, list[tuple[str, str]]]] = []
    body = app(environ, lambda status, headers, exc=None: started.append((status, headers)))
    try:
        content = b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()
    [(status, headers)] = started
    return status, headers, content


def test_what_the_wsgi_server_is_handed() -> None:
    status, headers, content = _serve(BeaconFastPath(_Django()), _environ("/ctr/i.gif"))

    assert status == "200 OK"
    assert [name for name, _ in headers] == [
        "Content-Type",
        "ETag",
        "Cache-Control",
        "Cross-Origin-Resource-Policy",
        "Content-Length",
    ]
    values = dict(headers)
    assert values["Content-Type"] == "image/gif"
    assert re.fullmatch(r'"[0-9a-f]{32}"', values["ETag"])
    assert values["Content-Length"] == str(len(content)) == "43"


def test_a_revalidation_is_answered_304_without_a_body() -> None:
    environ = _environ("/ctr/d.css", HTTP_IF_MODIFIED_SINCE="Fri, 01 Jan 2100 00:00:00 GMT")

    status, headers, content = _serve(BeaconFastPath(_Django()), environ)

    assert status == "304 Not Modified"
    assert content == b""
    assert "Content-Type" not in dict(headers)
    assert HeaderHit.objects.count() == 0


@pytest.mark.parametrize(
    ("path", "method", "host"),
    [
        ("/ctr/s.css", "POST", "testserver"),
        ("/ctr/s.css", "OPTIONS", "testserver"),
        ("/ctr/s.css", "GET", "evil.example"),
        ("/ctr/x.css", "GET", "testserver"),
        ("/", "GET", "testserver"),
    ],
)
def test_django_gets_the_environ_untouched(path: str, method: str, host: str) -> None:
    django = _Django()
    environ = _environ(path, method, HTTP_HOST=host)
    sent = dict(environ)

    status, _, content = _serve(BeaconFastPath(django), environ)

    assert (status, content) == ("418 I'm a teapot", b"django")
    assert django.environs == [sent]
    assert HeaderHit.objects.count() == 0


def test_a_hit_reads_its_environ_without_changing_it() -> None:
    # The light request reads the environ itself rather than a copy of it.
    environ = _environ("/ctr/s.css", QUERY_STRING="t=forged&x=1")
    sent = dict(environ)

    status, _, _ = _serve(BeaconFastPath(_Django()), environ)

    assert status == "200 OK"
    assert environ == sent
    assert HeaderHit.objects.get().verified is False


def test_no_request_signals_are_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[object] = []

    def receiver(**kwargs: Any) -> None:
        sent.append(kwargs["signal"])

    request_started.connect(receiver)
    request_finished.connect(receiver)
    try:
        _serve(BeaconFastPath(_Django()), _environ("/ctr/s.css"))
    finally:
        request_started.disconnect(receiver)
        request_finished.disconnect(receiver)

    # Outside Django's request cycle, as WhiteNoise's answers are.
    assert sent == []
    assert HeaderHit.objects.count() == 1


def test_connections_are_kept_as_djangos_request_finished_keeps_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(fastpath, "close_old_connections", lambda: calls.append("closed"))
    app = BeaconFastPath(_Django())

    body = app(_environ("/ctr/s.css"), lambda *args: None)
    assert calls == []
    body.close()  # type: ignore[attr-defined]

    # Once the answer is sent, as after Django's own responses.
    assert calls == ["closed"]


def test_only_a_thread_that_connected_closes_old_connections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(fastpath, "close_old_connections", lambda: calls.append("closed"))

    def answer(connect: bool) -> None:
        if connect:
            # What a backend sends when this thread opens a connection.
            connection_created.send(sender=None, connection=None)
        fastpath.close_old_connections_if_connected()

    for connect in (False, True):
        thread = threading.Thread(target=answer, args=(connect,))
        thread.start()
        thread.join()

    assert calls == ["closed"]


@pytest.mark.django_db(transaction=True)
@override_settings(LAMBDACTR_RATE_LIMIT=None)
def test_a_connection_past_conn_max_age_is_closed_after_a_hit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closed: list[bool] = []
    default = connections["default"]
    default.ensure_connection()
    # Spied on rather than done: SQLite's in-memory test database ignores close().
    monkeypatch.setattr(default, "close", lambda: closed.append(True))
    monkeypatch.setattr(default, "close_at", time.monotonic() - 1)

    _serve(BeaconFastPath(_Django()), _environ("/ctr/s.css"))

    assert closed
    assert HeaderHit.objects.count() == 1


def _view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("not the beacon")


class Elsewhere:
    urlpatterns = [path("elsewhere/counter/", include("lambdactr_django.urls"))]


class Shadowing:
    urlpatterns = [path("ctr/s.css", _view), path("ctr/", include("lambdactr_django.urls"))]


class Without:
    urlpatterns: list[Any] = []


@override_settings(ROOT_URLCONF=Elsewhere)
def test_the_prefix_comes_from_the_urlconf() -> None:
    request = RequestFactory().get("/page/", HTTP_HOST="blog.example")
    html = Template("{% load lambdactr %}{% tracking_link %}").render(Context({"request": request}))
    href = re.search(r'href="([^"?]+)', html)
    assert href is not None

    status, _, _ = _serve(BeaconFastPath(_Django()), _environ(href[1]))

    assert href[1] == "/elsewhere/counter/s.css"
    assert status == "200 OK"
    assert sorted(routes()) == [
        f"/elsewhere/counter/{name}" for name in ("d.css", "i.gif", "s.css")
    ]


@override_settings(ROOT_URLCONF=Shadowing)
def test_a_path_routed_elsewhere_is_left_to_django(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="lambdactr_django.beacon.fastpath"):
        paths = sorted(routes())

    assert paths == ["/ctr/d.css", "/ctr/i.gif"]
    assert "/ctr/s.css is not routed to the beacon" in caplog.text


@override_settings(ROOT_URLCONF=Without)
def test_without_the_counters_urls_the_fast_path_refuses_to_start() -> None:
    with pytest.raises(ImproperlyConfigured, match="include"):
        BeaconFastPath(_Django())


@override_settings(FORCE_SCRIPT_NAME="/blog/")
def test_paths_are_matched_below_the_script_name() -> None:
    # reverse() includes the script name; PATH_INFO does not.
    assert sorted(routes()) == ["/ctr/d.css", "/ctr/i.gif", "/ctr/s.css"]


def test_warming_up_compiles_the_user_agent_patterns(
    monkeypatch: pytest.MonkeyPatch, django_assert_num_queries: Any
) -> None:
    patterns = crawleruseragents.CRAWLER_PATTERNS
    vars(patterns).pop("_chunks_case_sensitive", None)
    monkeypatch.setattr(database, "_statements", {})

    with django_assert_num_queries(0):
        warmup.warm_up()

    assert "_chunks_case_sensitive" in vars(patterns)
    assert database.beacon_alias() in database._statements
    assert HeaderHit.objects.count() == 0


def test_a_failed_warm_up_is_logged_and_harmless(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def fail(*args: object) -> None:
        raise RuntimeError("no parser today")

    monkeypatch.setattr(warmup.classify, "parse_agent", fail)
    with caplog.at_level(logging.ERROR, logger="lambdactr_django.beacon.warmup"):
        app = BeaconFastPath(_Django())

    assert "could not warm up the beacon" in caplog.text
    assert app.routes


def test_wsgi_py_can_import_it_before_django_is_set_up() -> None:
    # As it imports WhiteNoise: at the top of the file, before get_wsgi_application().
    code = "import lambdactr_django.beacon.fastpath, django.apps; print(django.apps.apps.ready)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
    )
    assert done.stdout.strip() == "False"


@pytest.mark.django_db
def test_head_of_the_image_has_the_length_but_no_body() -> None:
    from lambdactr_django.beacon.fastpath import BeaconFastPath

    def django(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        raise AssertionError("the fast path should answer this itself")

    seen: list[tuple[str, list[tuple[str, str]]]] = []
    environ = RequestFactory().head("/ctr/i.gif", headers=STYLESHEET_HEADERS).environ
    body = b"".join(
        BeaconFastPath(django, warm_up=False)(environ, lambda s, h: seen.append((s, h)))
    )

    [(status, headers)] = seen
    assert status == "200 OK"
    assert dict(headers)["Content-Length"] == "43"
    assert body == b""
    assert HeaderHit.objects.count() == 0


@pytest.mark.parametrize("door", FAST_DOORS)
def test_a_host_allowed_before_is_refused_once_allowed_hosts_changes(door: str) -> None:
    # The Host check is cached per Host: a settings change must not leave it stale.
    client, middleware = _fast_client(door, [EXPLODING])
    with middleware:
        with override_settings(ALLOWED_HOSTS=["counter.example"]):
            answered = client.get(
                "/ctr/s.css", headers=STYLESHEET_HEADERS, HTTP_HOST="counter.example"
            )
        with override_settings(ALLOWED_HOSTS=["other.example"]), pytest.raises(AssertionError):
            # Left to Django now, whose first middleware says so.
            client.get("/ctr/s.css", headers=STYLESHEET_HEADERS, HTTP_HOST="counter.example")

    assert answered.status_code == 200
    assert HeaderHit.objects.count() == 1


def test_a_forwarded_host_is_checked_as_django_checks_it() -> None:
    django = _Django()
    app = BeaconFastPath(django, warm_up=False)
    environ = _environ("/ctr/s.css", HTTP_HOST="testserver", HTTP_X_FORWARDED_HOST="evil.example")
    with override_settings(USE_X_FORWARDED_HOST=True):
        status, _, _ = _serve(app, environ)
    assert status.startswith("418")
    with override_settings(USE_X_FORWARDED_HOST=False):
        status, _, _ = _serve(app, environ)
    assert status.startswith("200")
