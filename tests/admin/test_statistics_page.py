"""The statistics page's controls, comparison, live view and numbers, as a person sees them."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client, override_settings
from django.utils import timezone, translation

from lambdactr_django.models import HeaderHit
from tests.hits import make_hit

pytestmark = pytest.mark.django_db

STATISTICS = "/admin/lambdactr_django/headerhit/statistics/"
HIT_LIST = "/admin/lambdactr_django/headerhit/"


def _html(client: Client, query: str = "") -> str:
    response = client.get(f"{STATISTICS}{query}")
    assert response.status_code == 200
    return response.content.decode()


def _numbers(html: str) -> dict[str, str]:
    return dict(
        (name, number)
        for name, number in re.findall(
            r'lambdactr-total-(\w+)">.*?<span class="lambdactr-number">(.*?)</span>', html, re.S
        )
    )


def _changes(html: str) -> dict[str, str]:
    return dict(
        re.findall(
            r'lambdactr-total-(\w+)">(?:(?!lambdactr-total-).)*?'
            r'<span class="lambdactr-change [^"]*" title="[^"]*">(.*?)</span>',
            html,
            re.S,
        )
    )


def test_every_period_is_a_link_keeping_the_other_filters(admin_client: Client) -> None:
    html = _html(admin_client, "?when=7d&browser=Chrome")
    nav = html.split('aria-label="Period">')[1].split("</nav>")[0]
    links = re.findall(
        r'<a href="([^"]*)"( class="selected" aria-current="page")?>([^<]*)</a>', nav
    )
    assert [(url, bool(selected), label) for url, selected, label in links] == [
        (f"{STATISTICS}?browser=Chrome&amp;when=today", False, "Today"),
        (f"{STATISTICS}?browser=Chrome&amp;when=yesterday", False, "Yesterday"),
        (f"{STATISTICS}?browser=Chrome&amp;when=7d", True, "Last 7 days"),
        (f"{STATISTICS}?browser=Chrome&amp;when=30d", False, "Last 30 days"),
        (f"{STATISTICS}?browser=Chrome&amp;when=month", False, "This month"),
        (f"{STATISTICS}?browser=Chrome&amp;when=lastmonth", False, "Last month"),
        (f"{STATISTICS}?browser=Chrome&amp;when=12m", False, "Last 12 months"),
        (f"{STATISTICS}?browser=Chrome", False, "All dates"),
    ]


def test_the_custom_range_is_a_get_form_showing_the_days(admin_client: Client) -> None:
    html = _html(admin_client, "?when=7d&site=blog.example")
    today = timezone.localdate()
    form = html.split('class="lambdactr-form lambdactr-range">')[1].split("</form>")[0]
    assert '<input type="hidden" name="site" value="blog.example">' in form
    assert "when" not in form
    assert f'name="since" value="{today - dt.timedelta(days=6)}"' in form
    assert f'name="until" value="{today}"' in form
    assert html.count('<form method="get"') >= 2


@pytest.mark.parametrize(
    ("query", "paths"),
    [
        ("?when=today", {"/0/"}),
        ("?when=yesterday", {"/1/"}),
        ("?when=7d", {f"/{n}/" for n in range(7)}),
        ("?since={d3}&until={d1}", {"/1/", "/2/", "/3/"}),
    ],
)
def test_periods_select_the_same_days_on_both_pages(
    admin_client: Client, query: str, paths: set[str]
) -> None:
    for days_ago in range(10):
        make_hit(days_ago=days_ago, path=f"/{days_ago}/")
    today = timezone.localdate()
    query = query.format(d3=today - dt.timedelta(days=3), d1=today - dt.timedelta(days=1))
    report = admin_client.get(f"{STATISTICS}{query}").context["report"]
    assert {row.lookups["path"] for row in report.pages} == paths
    listed = admin_client.get(f"{HIT_LIST}{query}").context["cl"].result_list
    assert {hit.path for hit in listed} == paths


def test_the_hit_list_offers_the_same_periods(admin_client: Client) -> None:
    html = admin_client.get(HIT_LIST).content.decode()
    for key, label in [
        ("yesterday", "Yesterday"),
        ("month", "This month"),
        ("12m", "Last 12 months"),
    ]:
        assert f'href="?when={key}">{label}</a>' in html


def test_active_filters_are_chips_that_remove_themselves(admin_client: Client) -> None:
    html = _html(admin_client, "?when=7d&browser=Chrome&device__exact=mobile&q=%3Cb%3E")
    chips = re.findall(
        r'<li><span>([^<]*)</span><a href="([^"]*)" title="Remove this filter"', html
    )
    assert chips == [
        ("Browser: Chrome", f"{STATISTICS}?when=7d&amp;device__exact=mobile&amp;q=%3Cb%3E"),
        ("Device: mobile", f"{STATISTICS}?when=7d&amp;browser=Chrome&amp;q=%3Cb%3E"),
        # What came from the request is escaped.
        ("Search: &lt;b&gt;", f"{STATISTICS}?when=7d&amp;browser=Chrome&amp;device__exact=mobile"),
    ]
    assert "<b>" not in html.split('id="content-main"')[1]


def test_the_site_form_lists_the_sites_and_keeps_the_rest(admin_client: Client) -> None:
    make_hit(site="blog.example")
    make_hit(site="shop.example")
    html = _html(admin_client, "?when=30d&site=shop.example")
    form = html.split('class="lambdactr-form lambdactr-site">')[1].split("</form>")[0]
    assert '<input type="hidden" name="when" value="30d">' in form
    assert (
        '<option value="blog.example">blog.example</option>'
        '<option value="shop.example" selected>shop.example</option>'
    ) in form
    assert f'<a href="{STATISTICS}?when=30d">All sites</a>' in form
    # Without a site chosen the form says so, and sends no site unless one is picked.
    every = _html(admin_client, "?when=30d")
    form = every.split('class="lambdactr-form lambdactr-site">')[1].split("</form>")[0]
    assert '<select name="site"><option value="" disabled selected>All sites</option>' in form
    assert "All sites</a>" not in form


def test_statistics_and_hit_list_link_each_other_with_the_same_filters(
    admin_client: Client,
) -> None:
    html = _html(admin_client, "?when=yesterday&site=blog.example")
    assert f'<a href="{HIT_LIST}?when=yesterday&amp;site=blog.example">Hit list</a>' in html
    listed = admin_client.get(f"{HIT_LIST}?when=yesterday&site=blog.example").content.decode()
    assert f'href="{STATISTICS}?site=blog.example&amp;when=yesterday"' in listed


def test_each_headline_number_has_its_change(admin_client: Client) -> None:
    # This week: 3 views and 1 visitor; the week before: 2 views, no visitor.
    for days_ago in (0, 1, 6):
        make_hit(days_ago=days_ago)
    make_hit(days_ago=2, kind="visitor", path="")
    for days_ago in (7, 13):
        make_hit(days_ago=days_ago)
    make_hit(days_ago=20)
    html = _html(admin_client, "?when=7d")
    assert _numbers(html) == {
        "views": "3",
        "visitors": "1",
        "bounce_rate": "100%",
        "views_per_visit": "3",
    }
    # The week before had no visit: no rate per visit to compare with.
    assert _changes(html) == {"views": "+50%", "visitors": "new"}
    today = timezone.localdate()
    before = (
        f"{today - dt.timedelta(days=13):%-d %b %Y} \u2013 {today - dt.timedelta(days=7):%-d %b %Y}"
    )
    assert f'title="Previous period ({before}): 2">+50%</span>' in html
    assert f'compared with <span class="lambdactr-previous-days">{before}</span>' in html


def test_nothing_then_or_now_is_a_dash(admin_client: Client) -> None:
    make_hit(days_ago=0)
    html = _html(admin_client, "?when=today")
    assert _changes(html) == {"views": "new", "visitors": "—"}
    make_hit(days_ago=1)
    assert _changes(_html(admin_client, "?when=today")) == {"views": "±0%", "visitors": "—"}


def test_a_fall_has_a_minus_sign(admin_client: Client) -> None:
    make_hit(days_ago=0)
    for _ in range(4):
        make_hit(days_ago=1)
    assert _changes(_html(admin_client, "?when=today"))["views"] == "\u221275%"


def test_all_dates_has_nothing_to_compare(admin_client: Client) -> None:
    make_hit()
    html = _html(admin_client)
    assert _changes(html) == {}
    assert 'class="previous"' not in html
    assert "compared with" not in html


def test_a_narrowed_selection_is_compared_narrowed(admin_client: Client) -> None:
    make_hit(days_ago=0, browser="Firefox")
    make_hit(days_ago=1, browser="Firefox")
    make_hit(days_ago=1, browser="Firefox")
    make_hit(days_ago=1, browser="Chrome")
    assert _changes(_html(admin_client, "?when=today&browser=Firefox"))["views"] == "\u221250%"


def test_the_chart_draws_the_previous_period_faintly_and_tables_it(admin_client: Client) -> None:
    make_hit(days_ago=0)
    make_hit(days_ago=7)
    make_hit(days_ago=7)
    html = _html(admin_client, "?when=7d")
    svg = html.split('<svg class="lambdactr-chart"')[1].split("</svg>")[0]
    assert svg.count('class="previous"') == 7
    today = timezone.localdate()
    week_ago = today - dt.timedelta(days=7)
    assert (
        f"<title>{today}: 1 views, 0 visitors; previous period, {week_ago}: 2 views</title>" in svg
    )
    assert '<span class="lambdactr-key previous"></span> views in the previous period' in html
    assert (
        f'<tr><th scope="row">{today:%a} {today.day} {today:%b %Y}</th>'
        '<td class="lambdactr-count">1</td><td class="lambdactr-count">0</td>'
        f"<td>{week_ago:%a} {week_ago.day} {week_ago:%b %Y}</td>"
        '<td class="lambdactr-count">2</td><td class="lambdactr-count">0</td></tr>'
    ) in html


def test_live_shows_the_last_half_hour_of_people(admin_client: Client) -> None:
    make_hit(path="/now/")
    make_hit(path="/now/")
    make_hit(path="/bot/", is_bot=True, bot_reason="crawler")
    make_hit(when=timezone.now() - dt.timedelta(minutes=45), path="/earlier/")
    html = _html(admin_client, "?when=30d")
    live = html.split('class="module lambdactr-live"')[1].split("</div>")[0]
    assert '<span class="lambdactr-number">2</span> views by people in the last 30 minutes' in live
    assert (
        '<tr><td class="lambdactr-label">blog.example/now/</td>'
        '<td class="lambdactr-count">2</td></tr>'
    ) in live
    assert "/bot/" not in live
    assert "/earlier/" not in live


def test_live_says_when_nobody_is_reading(admin_client: Client) -> None:
    html = _html(admin_client)
    assert "No page views in the last 30 minutes." in html


def _bulk_views(count: int) -> None:
    now = timezone.now()
    HeaderHit.objects.bulk_create(
        HeaderHit(site="blog.example", path="/", created_at=now) for _ in range(count)
    )


def test_numbers_have_thousands_separators(admin_client: Client) -> None:
    _bulk_views(1234)
    html = _html(admin_client, "?when=today")
    assert _numbers(html)["views"] == "1,234"
    assert '<td class="lambdactr-count"><a href="' in html
    assert ">1,234</a>" in html


@override_settings(LANGUAGE_CODE="de")
def test_numbers_follow_the_locale(admin_client: Client) -> None:
    _bulk_views(1234)
    with translation.override("de"):
        html = _html(admin_client, "?when=today")
    assert _numbers(html)["views"] == "1.234"


def test_visitors_per_page_are_a_dash_with_the_reason(admin_client: Client) -> None:
    make_hit()
    html = _html(admin_client)
    assert (
        '<abbr title="A visitor is counted once a day for the whole site, so visitors per '
        'page cannot be known.">—</abbr>'
    ) in html


def test_the_json_link_carries_the_same_filters(admin_client: Client) -> None:
    html = _html(admin_client, "?when=7d&site=blog.example")
    assert (
        '<li><a href="/ctr/api/statistics.json?when=7d&amp;site=blog.example">JSON</a></li>' in html
    )


def test_no_json_link_where_the_api_cannot_count_the_same(admin_client: Client) -> None:
    # A search needs the hit list's changelist, which the API does not have.
    assert ">JSON</a>" not in _html(admin_client, "?when=7d&q=about")
