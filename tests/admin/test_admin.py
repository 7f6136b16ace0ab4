from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from lambdactr_django.admin.hit_list import HeaderHitAdmin
from lambdactr_django.models import HeaderHit
from tests.hits import CHROME, STYLESHEET_HEADERS

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:lambdactr_django_headerhit_changelist")
ADD = reverse("admin:lambdactr_django_headerhit_add")
XSS = "<script>alert(1)</script>"
ESCAPED_XSS = "&lt;script&gt;alert(1)&lt;/script&gt;"


def change_url(hit: HeaderHit) -> str:
    return reverse("admin:lambdactr_django_headerhit_change", args=[hit.pk])


def delete_url(hit: HeaderHit) -> str:
    return reverse("admin:lambdactr_django_headerhit_delete", args=[hit.pk])


def listed(response: Any) -> set[str]:
    """Paths of the hits the changelist shows."""
    assert response.status_code == 200
    return {hit.path for hit in response.context["cl"].result_list}


def at(day: dt.date, hour: int = 12, minute: int = 0, second: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute, second)))


# Access


def test_anonymous_is_sent_to_login_from_the_changelist(client: Client) -> None:
    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={CHANGELIST}"


def test_anonymous_is_sent_to_login_from_the_detail(client: Client) -> None:
    hit = HeaderHit.objects.create(path="/a/")

    response = client.get(change_url(hit))

    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={change_url(hit)}"


def test_viewer_sees_the_list_and_the_detail(viewer_client: Client) -> None:
    hit = HeaderHit.objects.create(site="blog.example", path="/posts/1/", user_agent="UA/1")

    assert listed(viewer_client.get(CHANGELIST)) == {"/posts/1/"}
    detail = viewer_client.get(change_url(hit))
    assert detail.status_code == 200
    assert "UA/1" in detail.content.decode()


def test_viewer_cannot_add(viewer_client: Client) -> None:
    assert viewer_client.get(ADD).status_code == 403
    assert viewer_client.post(ADD, {"site": "x", "path": "/"}).status_code == 403
    assert HeaderHit.objects.count() == 0


def test_viewer_cannot_change(viewer_client: Client) -> None:
    hit = HeaderHit.objects.create(path="/a/")

    response = viewer_client.post(change_url(hit), {"path": "/changed/"})

    assert response.status_code == 403
    hit.refresh_from_db()
    assert hit.path == "/a/"


def test_viewer_cannot_delete(viewer_client: Client) -> None:
    hit = HeaderHit.objects.create(path="/a/")

    assert viewer_client.get(delete_url(hit)).status_code == 403
    assert viewer_client.post(delete_url(hit), {"post": "yes"}).status_code == 403
    response = viewer_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [hit.pk], "post": "yes"}
    )
    assert response.status_code in (200, 302)
    assert HeaderHit.objects.filter(pk=hit.pk).exists()


def test_nobody_can_add_or_change(admin_client: Client) -> None:
    hit = HeaderHit.objects.create(path="/a/")

    assert admin_client.get(ADD).status_code == 403
    assert admin_client.post(change_url(hit), {"path": "/changed/"}).status_code == 403
    hit.refresh_from_db()
    assert hit.path == "/a/"


def test_no_add_button(admin_client: Client) -> None:
    changelist = admin_client.get(CHANGELIST).content.decode()
    index = admin_client.get(reverse("admin:index")).content.decode()

    assert ADD not in changelist
    assert ADD not in index


# The changelist


def cell(column: str, text: str) -> str:
    # The whole cell: the filters list most of these values too.
    return f'<td class="field-{column}">{text}</td>'


def test_changelist_shows_the_hit_columns(admin_client: Client) -> None:
    HeaderHit.objects.create(
        site="blog.example",
        path="/posts/1/",
        referrer="https://news.example/",
        user_agent=CHROME,
        browser="Chrome",
        os="Windows",
        device="desktop",
        created_at=at(dt.date(2024, 3, 10)),
    )

    content = admin_client.get(CHANGELIST).content.decode()

    for column, text in (
        ("kind", "page view"),
        ("site", "blog.example"),
        ("path", "/posts/1/"),
        ("referrer", "https://news.example/"),
        ("browser", "Chrome"),
        ("device", "desktop"),
        ("traffic_label", "person"),
    ):
        assert cell(column, text) in content


def test_traffic_column_names_bots_and_prefetches(admin_client: Client) -> None:
    HeaderHit.objects.create(path="/bot/", is_bot=True, bot_reason="crawler", device="bot")
    HeaderHit.objects.create(path="/prefetch/", prefetch="prerender")

    content = admin_client.get(CHANGELIST, {"traffic": "all"}).content.decode()

    assert cell("traffic_label", "bot: crawler user agent") in content
    assert cell("traffic_label", "prerender") in content


def test_filters_are_offered(admin_client: Client) -> None:
    HeaderHit.objects.create(site="blog.example", browser="Chrome", os="Windows")

    response = admin_client.get(CHANGELIST)

    assert [spec.title for spec in response.context["cl"].filter_specs] == [
        "date",
        "site",
        "traffic",
        "kind",
        "device",
        "browser",
        "OS",
        "bot reason",
        "loaded as",
        "channel",
        "external referrer",
        "signature",
    ]
    content = response.content.decode()
    for text in (
        'href="?when=today">Today</a>',
        'href="?when=7d">Last 7 days</a>',
        'href="?when=30d">Last 30 days</a>',
        '<input type="date" name="since" value="">',
        '<input type="date" name="until" value="">',
        'href="?site=blog.example">blog.example</a>',
        'href="?traffic=bot">Bots</a>',
        'href="?traffic=prefetch">Prefetches and prerenders</a>',
        'href="?traffic=all">All</a>',
        'href="?kind__exact=visitor">visitor-day</a>',
        'href="?device__exact=mobile">mobile</a>',
        'href="?browser=Chrome">Chrome</a>',
        'href="?os=Windows">Windows</a>',
        'href="?bot_reason__exact=no-lang">no Accept-Language</a>',
        'href="?resource__exact=image">image</a>',
        'href="?external=yes">Yes</a>',
        'href="?external=no">No</a>',
        'href="?verified=no">Forged, broken or imported</a>',
        'href="?verified=all">All</a>',
    ):
        assert text in content


@pytest.fixture
def dated_hits() -> None:
    today = timezone.localdate()
    HeaderHit.objects.create(path="/today/", created_at=timezone.now())
    HeaderHit.objects.create(path="/3-days/", created_at=at(today - dt.timedelta(days=3)))
    HeaderHit.objects.create(path="/10-days/", created_at=at(today - dt.timedelta(days=10)))
    HeaderHit.objects.create(path="/40-days/", created_at=at(today - dt.timedelta(days=40)))


@pytest.mark.usefixtures("dated_hits")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"/today/", "/3-days/", "/10-days/", "/40-days/"}),
        ("?when=today", {"/today/"}),
        ("?when=7d", {"/today/", "/3-days/"}),
        ("?when=30d", {"/today/", "/3-days/", "/10-days/"}),
    ],
)
def test_date_presets_filter(admin_client: Client, query: str, expected: set[str]) -> None:
    assert listed(admin_client.get(CHANGELIST + query)) == expected


@pytest.mark.usefixtures("dated_hits")
def test_custom_date_range_filters(admin_client: Client) -> None:
    today = timezone.localdate()
    since = today - dt.timedelta(days=12)
    until = today - dt.timedelta(days=2)

    response = admin_client.get(
        CHANGELIST, {"since": since.isoformat(), "until": until.isoformat()}
    )

    assert listed(response) == {"/3-days/", "/10-days/"}
    content = response.content.decode()
    assert f'<input type="date" name="since" value="{since.isoformat()}">' in content
    assert f'<input type="date" name="until" value="{until.isoformat()}">' in content


def test_custom_date_range_includes_both_whole_days(admin_client: Client) -> None:
    day = dt.date(2024, 3, 10)
    HeaderHit.objects.create(path="/before/", created_at=at(day, 0) - dt.timedelta(seconds=1))
    HeaderHit.objects.create(path="/first/", created_at=at(day, 0))
    HeaderHit.objects.create(path="/last/", created_at=at(day + dt.timedelta(days=1), 23, 59, 59))
    HeaderHit.objects.create(path="/after/", created_at=at(day + dt.timedelta(days=2), 0))

    response = admin_client.get(CHANGELIST, {"since": "2024-03-10", "until": "2024-03-11"})

    assert listed(response) == {"/first/", "/last/"}


def test_custom_date_range_open_ended(admin_client: Client) -> None:
    HeaderHit.objects.create(path="/old/", created_at=at(dt.date(2024, 3, 9)))
    HeaderHit.objects.create(path="/new/", created_at=at(dt.date(2024, 3, 10)))

    assert listed(admin_client.get(CHANGELIST, {"since": "2024-03-10"})) == {"/new/"}
    assert listed(admin_client.get(CHANGELIST, {"until": "2024-03-09"})) == {"/old/"}


@pytest.mark.parametrize("value", ["garbage", "2024-02-30", "2024-13-01", ""])
def test_malformed_dates_are_ignored(admin_client: Client, value: str) -> None:
    HeaderHit.objects.create(path="/a/", created_at=at(dt.date(2024, 3, 9)))

    response = admin_client.get(CHANGELIST, {"since": value, "until": value})

    assert listed(response) == {"/a/"}


def test_date_range_form_keeps_the_other_filters_and_search(admin_client: Client) -> None:
    HeaderHit.objects.create(site="blog.example", path="/a/")

    response = admin_client.get(
        CHANGELIST, {"site": "blog.example", "q": "/a/", "when": "7d", "p": "1"}
    )

    content = response.content.decode()
    form = content[content.index('<form method="get" class="lambdactr-date-range">') :]
    form = form[: form.index("</form>")]
    assert '<input type="hidden" name="site" value="blog.example">' in form
    assert '<input type="hidden" name="q" value="/a/">' in form
    assert 'name="when"' not in form
    assert 'name="p"' not in form


def test_site_filter(admin_client: Client) -> None:
    HeaderHit.objects.create(site="blog.example", path="/blog/")
    HeaderHit.objects.create(site="shop.example", path="/shop/")
    HeaderHit.objects.create(site="", path="/unknown/")

    assert listed(admin_client.get(CHANGELIST, {"site": "blog.example"})) == {"/blog/"}
    assert listed(admin_client.get(CHANGELIST, {"site": ""})) == {"/unknown/"}
    content = admin_client.get(CHANGELIST).content.decode()
    assert 'href="?site=">(unknown)</a>' in content
    assert 'href="?site=shop.example">shop.example</a>' in content


def test_external_referrer_filter(admin_client: Client) -> None:
    HeaderHit.objects.create(path="/direct/", referrer="")
    HeaderHit.objects.create(path="/linked/", referrer="https://news.example/")

    assert listed(admin_client.get(CHANGELIST, {"external": "yes"})) == {"/linked/"}
    assert listed(admin_client.get(CHANGELIST, {"external": "no"})) == {"/direct/"}
    assert listed(admin_client.get(CHANGELIST)) == {"/direct/", "/linked/"}


def test_unverified_hits_are_hidden_by_default(admin_client: Client) -> None:
    HeaderHit.objects.create(path="/good/", verified=True)
    HeaderHit.objects.create(path="/forged/", verified=False)

    assert listed(admin_client.get(CHANGELIST)) == {"/good/"}
    assert listed(admin_client.get(CHANGELIST, {"verified": "no"})) == {"/forged/"}
    assert listed(admin_client.get(CHANGELIST, {"verified": "all"})) == {"/good/", "/forged/"}


def test_filters_combine(admin_client: Client) -> None:
    HeaderHit.objects.create(
        site="blog.example", path="/blog-linked/", referrer="https://n.example/"
    )
    HeaderHit.objects.create(site="blog.example", path="/blog-direct/")
    HeaderHit.objects.create(
        site="shop.example", path="/shop-linked/", referrer="https://n.example/"
    )

    response = admin_client.get(CHANGELIST, {"site": "blog.example", "external": "yes"})

    assert listed(response) == {"/blog-linked/"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [("posts", {"/posts/1/"}), ("news.example", {"/about/"}), ("Firefox", {"/contact/"})],
)
def test_search_by_path_referrer_and_user_agent(
    admin_client: Client, query: str, expected: set[str]
) -> None:
    HeaderHit.objects.create(path="/posts/1/", user_agent="Chrome")
    HeaderHit.objects.create(path="/about/", referrer="https://news.example/", user_agent="Chrome")
    HeaderHit.objects.create(path="/contact/", user_agent="Mozilla/5.0 Firefox/130.0")

    assert listed(admin_client.get(CHANGELIST, {"q": query})) == expected


def test_no_full_count(admin_client: Client) -> None:
    assert HeaderHitAdmin.show_full_result_count is False
    HeaderHit.objects.create(path="/posts/1/")
    HeaderHit.objects.create(path="/about/")

    response = admin_client.get(CHANGELIST, {"q": "posts"})

    content = response.content.decode()
    assert "1 result" in content
    assert "Show all" in content
    assert "2 total" not in content


# The detail page


def test_detail_shows_the_headers_as_a_table(admin_client: Client) -> None:
    hit = HeaderHit.objects.create(
        path="/a/", headers={"User-Agent": "Mozilla/5.0", "Accept-Language": "fr-CH"}
    )

    content = admin_client.get(change_url(hit)).content.decode()

    assert (
        '<table class="lambdactr-headers"><thead><tr><th scope="col">Header</th>'
        '<th scope="col">Value</th></tr></thead><tbody>'
        '<tr><th scope="row">Accept-Language</th><td>fr-CH</td></tr>\n'
        '<tr><th scope="row">User-Agent</th><td>Mozilla/5.0</td></tr>'
        "</tbody></table>"
    ) in content


def test_detail_is_read_only(admin_client: Client) -> None:
    hit = HeaderHit.objects.create(path="/a/")

    content = admin_client.get(change_url(hit)).content.decode()

    assert 'name="_save"' not in content
    assert '<input type="text"' not in content


# Everything that came from a request is escaped


def test_request_data_is_escaped_in_list_and_detail(admin_client: Client) -> None:
    # Otherwise a browser's stylesheet load, so the hit is a person's and listed by default.
    Client().get(
        "/ctr/s.css",
        headers={
            **STYLESHEET_HEADERS,
            "User-Agent": XSS,
            "Referer": f"https://blog.example/{XSS}",
            "X-Evil": XSS,
        },
    )
    hit = HeaderHit.objects.get()
    assert hit.user_agent == XSS
    assert not hit.is_bot

    for url in (CHANGELIST, change_url(hit)):
        content = admin_client.get(url).content.decode()
        assert XSS not in content
        assert "<script>alert" not in content
        assert ESCAPED_XSS in content


def test_filter_values_are_escaped(admin_client: Client) -> None:
    HeaderHit.objects.create(site=XSS, path="/a/")

    content = admin_client.get(CHANGELIST, {"q": XSS, "since": XSS}).content.decode()

    assert XSS not in content
    assert "<script>alert" not in content


def test_latest_possible_until_date(admin_client: Client) -> None:
    HeaderHit.objects.create(path="/a/", created_at=at(dt.date(2024, 3, 9)))

    response = admin_client.get(CHANGELIST, {"since": "0001-01-01", "until": "9999-12-31"})

    assert listed(response) == {"/a/"}


@override_settings(TIME_ZONE="Asia/Tokyo")
def test_earliest_possible_since_date_ahead_of_utc(admin_client: Client) -> None:
    HeaderHit.objects.create(path="/a/", created_at=at(dt.date(2024, 3, 9)))

    response = admin_client.get(CHANGELIST, {"since": "0001-01-01", "until": "0001-01-02"})

    assert listed(response) == set()


def test_picking_a_bot_reason_lists_those_bots(admin_client: Client) -> None:
    HeaderHit.objects.create(path="/person/")
    HeaderHit.objects.create(path="/crawler/", is_bot=True, bot_reason="crawler")
    HeaderHit.objects.create(path="/no-lang/", is_bot=True, bot_reason="no-lang")

    response = admin_client.get(CHANGELIST, {"bot_reason__exact": "crawler"})

    assert listed(response) == {"/crawler/"}
    # The traffic filter says what is shown: bots, not people.
    traffic = next(spec for spec in response.context["cl"].filter_specs if spec.title == "traffic")
    selected = [c["display"] for c in traffic.choices(response.context["cl"]) if c["selected"]]
    assert selected == ["Bots"]
    assert listed(admin_client.get(CHANGELIST)) == {"/person/"}
