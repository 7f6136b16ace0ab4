"""Nothing stored from a request can attack the admin; only staff read it."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from lambdactr_django.models import HeaderHit
from tests import traffic

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/lambdactr_django/headerhit/"
PAYLOADS = [
    "<script>window.__pwned=1;alert(1)</script>",
    '"><img src=x onerror="window.__pwned=1;alert(1)">',
    "javascript:window.__pwned=1;alert(1)",
    "'><svg onload=window.__pwned=1>",
]
# What would be live markup or a live link if a payload got through unescaped.
LIVE = re.compile(
    r"<script>window|<img src=x|<svg onload|href=\"javascript:|href='javascript:", re.I
)


def hostile_hit(payload: str) -> HeaderHit:
    return HeaderHit.objects.create(
        site=payload,
        path="/" + payload,
        referrer=payload,
        user_agent=payload,
        headers={"User-Agent": payload, payload: payload, "Referer": payload},
    )


@pytest.fixture
def hits() -> list[HeaderHit]:
    return [hostile_hit(payload) for payload in PAYLOADS]


def user(username: str, *, staff: bool = False, perms: tuple[str, ...] = ()) -> Client:
    account = get_user_model().objects.create_user(username, password="pw", is_staff=staff)
    account.user_permissions.set(Permission.objects.filter(codename__in=perms))
    client = Client()
    client.force_login(account)
    return client


@pytest.fixture
def superuser() -> Client:
    account = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(account)
    return client


def admin_pages(hits: list[HeaderHit]) -> list[str]:
    return [
        CHANGELIST,
        CHANGELIST + "?verified=all&external=yes",
        CHANGELIST + "?q=script",
        *(f"{CHANGELIST}{hit.pk}/change/" for hit in hits),
    ]


def test_stored_markup_is_shown_inert_everywhere(superuser: Client, hits: list[HeaderHit]) -> None:
    for url in admin_pages(hits):
        html = superuser.get(url).content.decode()

        assert not LIVE.search(html), url
    detail = superuser.get(f"{CHANGELIST}{hits[0].pk}/change/").content.decode()
    assert "&lt;script&gt;window.__pwned=1;alert(1)&lt;/script&gt;" in detail
    sidebar = superuser.get(CHANGELIST).content.decode()
    # The site filter lists stored sites: escaped too.
    assert "&quot;&gt;&lt;img src=x onerror=" in sidebar


def test_anonymous_users_reach_no_admin_page(client: Client, hits: list[HeaderHit]) -> None:
    for url in [*admin_pages(hits), f"{CHANGELIST}{hits[0].pk}/delete/"]:
        response = client.get(url)

        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_logged_in_non_staff_reach_no_admin_page(hits: list[HeaderHit]) -> None:
    visitor = user("visitor", perms=("view_headerhit", "delete_headerhit"))

    for url in admin_pages(hits):
        response = visitor.get(url)

        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_staff_without_permission_are_refused(hits: list[HeaderHit]) -> None:
    staff = user("staff", staff=True)

    for url in admin_pages(hits):
        assert staff.get(url).status_code == 403


def test_view_only_staff_can_view_but_not_delete(hits: list[HeaderHit]) -> None:
    viewer = user("viewer", staff=True, perms=("view_headerhit",))
    target = hits[0]

    assert viewer.get(CHANGELIST).status_code == 200
    assert viewer.get(f"{CHANGELIST}{target.pk}/change/").status_code == 200
    assert viewer.get(f"{CHANGELIST}{target.pk}/delete/").status_code == 403
    assert viewer.post(f"{CHANGELIST}{target.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = viewer.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [target.pk], "post": "yes"}
    )
    assert bulk.status_code in (200, 302, 403)
    assert HeaderHit.objects.filter(pk=target.pk).exists()
    assert "delete_selected" not in viewer.get(CHANGELIST).content.decode()


def test_no_one_can_add_or_change_a_hit(superuser: Client, hits: list[HeaderHit]) -> None:
    assert superuser.get(CHANGELIST + "add/").status_code == 403
    response = superuser.post(f"{CHANGELIST}{hits[0].pk}/change/", {"path": "/changed/"})
    assert response.status_code == 403
    hits[0].refresh_from_db()
    assert hits[0].path != "/changed/"


def test_the_list_filters_still_filter(superuser: Client, hits: list[HeaderHit]) -> None:
    HeaderHit.objects.create(site="blog.example", path="/plain/")
    for query in ("site=blog.example", "when=7d", "since=2000-01-01", "verified=all", "q=plain"):
        response = superuser.get(f"{CHANGELIST}?{query}")

        assert response.status_code == 200, query
        assert "/plain/" in response.content.decode(), query


MARKER = "reflected-marker-7d3e"


def test_the_beacon_reflects_nothing_and_sets_no_cookie(client: Client) -> None:
    client.cookies["sessionid"] = traffic.COOKIE_VALUE
    client.cookies["csrftoken"] = traffic.CSRF_TOKEN
    response = client.get(
        "/ctr/s.css",
        {"t": MARKER, MARKER: MARKER},
        HTTP_REFERER=f"https://blog.example/{MARKER}/",
        HTTP_USER_AGENT=MARKER,
        HTTP_ORIGIN=f"https://{MARKER}.example",
        HTTP_X_MARKER=MARKER,
        **traffic.secret_meta(),
    )

    assert response.status_code == 200
    assert response.content == b""
    sent_back = str(response.headers) + str(response.cookies)
    assert MARKER not in sent_back
    assert not any(secret in sent_back for secret in traffic.SECRETS)
    assert "Set-Cookie" not in response.headers
    assert not response.cookies
    assert response["Content-Type"] == "text/css"
    assert HeaderHit.objects.count() == 1


@pytest.mark.parametrize(
    "cookies",
    [
        {"csrftoken": "short"},
        {"csrftoken": "x" * 32},
        {"sessionid": "x"},
        {"sessionid": "a" * 32},
        {"sessionid": "a" * 32, "csrftoken": "\u00e9" * 40},
    ],
)
def test_the_beacon_sets_no_cookie_whatever_cookies_it_gets(
    client: Client, cookies: dict[str, str]
) -> None:
    for name, value in cookies.items():
        client.cookies[name] = value

    response = client.get("/ctr/s.css")

    assert response.status_code == 200
    assert not response.cookies
