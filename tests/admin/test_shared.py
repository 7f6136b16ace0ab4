"""Shared dashboards: a read-only, revocable link to one site's statistics."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Permission, User
from django.core import signing
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from lambdactr_django.admin.shared import SALT, share_path, signed
from lambdactr_django.models import SharedLink
from tests.hits import make_hit

pytestmark = pytest.mark.django_db

ADD = reverse("admin:lambdactr_django_sharedlink_add")
LINKS = reverse("admin:lambdactr_django_sharedlink_changelist")
SECRET_AGENT = "Mozilla/5.0 secret-agent-string"


@pytest.fixture
def hits() -> None:
    make_hit(site="blog.example", path="/a/", user_agent=SECRET_AGENT, headers={"Accept": "x/y"})
    make_hit(site="blog.example", path="/a/", days_ago=1)
    make_hit(site="blog.example", kind="visitor", path="")
    make_hit(site="other.example", path="/private/")


def _staff(*codenames: str) -> Client:
    user = User.objects.create_user("sharer", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.usefixtures("hits")
def test_staff_who_may_read_make_a_link_in_the_admin() -> None:
    client = _staff("add_sharedlink", "change_sharedlink", "view_sharedlink", "view_headerhit")
    response = client.post(ADD, {"site": "blog.example", "label": "Board", "expires_at_0": ""})
    assert response.status_code == 302
    link = SharedLink.objects.get()
    assert (link.site, link.label, link.created_by, link.expires_at) == (
        "blog.example",
        "Board",
        "sharer",
        None,
    )
    assert len(link.token) == 43
    listed = client.get(LINKS).content.decode()
    assert f'<a href="{share_path(link)}" rel="noreferrer">' in listed


def test_sharing_takes_being_allowed_to_read_the_hits() -> None:
    client = _staff("add_sharedlink", "view_sharedlink")
    assert client.get(ADD).status_code == 403


@pytest.mark.usefixtures("hits")
def test_the_link_shows_that_site_s_statistics_and_nothing_hit_level() -> None:
    link = SharedLink.objects.create(site="blog.example")
    response = Client().get(share_path(link) + "?when=7d")
    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["report"].views == 2
    totals = html.split('class="lambdactr-totals"')[1].split('class="lambdactr-chart-module')[0]
    numbers = r'<span class="lambdactr-number">([\d.]+)</span> (views per visit|views|visitors)\b'
    assert re.findall(numbers, totals) == [
        ("2", "views"),
        ("1", "visitors"),
        ("2", "views per visit"),
    ]
    assert "blog.example/a/" in html
    assert '<span class="lambdactr-number">1</span> view by people in the last 30 minutes' in html
    # No admin, no hit list, no export, no raw headers, no other site.
    for leak in (
        'href="/admin/',
        "headerhit",
        "Export",
        "Hit list",
        SECRET_AGENT,
        "x/y",
        "other.example",
        "/private/",
    ):
        assert leak not in html
    assert "<script" not in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert '<meta name="referrer" content="no-referrer">' in html
    # Periods stay on the shared page.
    assert f'<a href="{share_path(link)}?when=30d">Last 30 days</a>' in html


@pytest.mark.usefixtures("hits")
def test_the_shared_page_is_never_cached_publicly_nor_indexed_nor_referred() -> None:
    link = SharedLink.objects.create(site="blog.example")
    for response in (Client().get(share_path(link)), Client().get("/ctr/shared/nope/")):
        cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= cache_control
        assert "public" not in cache_control
        assert response["X-Robots-Tag"] == "noindex, nofollow"
        assert response["Referrer-Policy"] == "no-referrer"


@pytest.mark.usefixtures("hits")
def test_other_filters_in_the_url_are_ignored() -> None:
    link = SharedLink.objects.create(site="blog.example")
    response = Client().get(share_path(link), {"site": "other.example", "q": "private"})
    assert response.context["report"].views == 2
    assert "other.example" not in response.content.decode()


@pytest.mark.usefixtures("hits")
def test_revoking_in_the_admin_closes_the_link_at_once() -> None:
    link = SharedLink.objects.create(site="blog.example")
    url = share_path(link)
    assert Client().get(url).status_code == 200
    client = _staff("change_sharedlink", "view_sharedlink", "view_headerhit")
    response = client.post(
        LINKS, {"action": "revoke", "_selected_action": [str(link.pk)]}, follow=True
    )
    assert "Revoked 1 link(s)." in response.content.decode()
    gone = Client().get(url)
    assert (gone.status_code, gone.content, gone["Content-Type"]) == (
        404,
        b"Not found\n",
        "text/plain",
    )


@pytest.mark.parametrize(
    "make_key",
    [
        # Expired a second ago.
        lambda: signed(
            SharedLink.objects.create(
                site="blog.example", expires_at=timezone.now() - dt.timedelta(seconds=1)
            ).token
        ),
        # A well-signed token no link has.
        lambda: signed("no-such-token"),
        # A real token without its signature, or signed with another salt.
        lambda: SharedLink.objects.create(site="blog.example").token,
        lambda: signing.Signer(salt="other").sign(
            SharedLink.objects.create(site="blog.example").token
        ),
        lambda: signing.Signer(salt=SALT).sign("x")[:-1] + "A",
    ],
    ids=["expired", "unknown", "unsigned", "other-salt", "bad-signature"],
)
def test_closed_and_unknown_links_are_a_plain_404(make_key: object) -> None:
    key = make_key()  # type: ignore[operator]
    response = Client().get(reverse("lambdactr:shared_statistics", kwargs={"key": key}))
    assert (response.status_code, response.content) == (404, b"Not found\n")


def test_a_link_expiring_later_is_open() -> None:
    link = SharedLink.objects.create(
        site="blog.example", expires_at=timezone.now() + dt.timedelta(days=1)
    )
    response = Client().get(share_path(link))
    assert response.status_code == 200
    assert "open until" in response.content.decode()


def test_only_get_and_head() -> None:
    link = SharedLink.objects.create(site="blog.example")
    assert Client().post(share_path(link)).status_code == 405
    assert Client().head(share_path(link)).status_code == 200


def test_what_came_from_a_request_is_escaped() -> None:
    make_hit(site="blog.example", path="/<script>alert(1)</script>/", referrer_host="<b>x</b>")
    link = SharedLink.objects.create(site="blog.example", label="<i>board</i>")
    html = Client().get(share_path(link)).content.decode()
    assert "<script>alert" not in html
    assert "blog.example/&lt;script&gt;alert(1)&lt;/script&gt;/" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    staff = _staff("view_sharedlink", "view_headerhit")
    assert "&lt;i&gt;board&lt;/i&gt;" in staff.get(LINKS).content.decode()


@override_settings(LAMBDACTR_API_RATE_LIMIT=2)
def test_each_link_has_its_share_of_requests_a_minute() -> None:
    link = SharedLink.objects.create(site="blog.example")
    other = SharedLink.objects.create(site="blog.example")
    assert [Client().get(share_path(link)).status_code for _ in range(2)] == [200, 200]

    refused = Client().get(share_path(link))
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "no-store" in refused["Cache-Control"]
    assert Client().get(share_path(other)).status_code == 200
