"""The site owner reads the page views in the admin, as a person would."""

from __future__ import annotations

import secrets

import pytest

from tests.e2e.browsing import Beacons, log_in
from tests.e2e.servers import ADMIN_PASSWORD, ADMIN_USERNAME

pytestmark = pytest.mark.browser

CHANGELIST = "/admin/lambdactr_django/headerhit/"
TRANSPARENT = "rgba(0, 0, 0, 0)"


def test_the_owner_finds_a_view_in_the_admin(
    new_context, example_site, hits, person_user_agent, artifacts
):
    marker = f"lambdactr-e2e/{secrets.token_hex(4)}"
    user_agent = f"{person_user_agent} {marker}"
    context = new_context(user_agent=user_agent)
    beacons = Beacons(context, example_site.stylesheet_url)
    visits = Beacons(context, example_site.visitor_day_url)
    page = context.new_page()
    # The second page is the second view's path: not the one searched for below.
    for path in ["/", "/about/", "/posts/hello-counter/"]:
        page.goto(example_site.url(path))
    assert page.evaluate("navigator.userAgent") == user_agent
    assert beacons.settle(page) == 3
    visits.settle(page)
    log_in(page, example_site, ADMIN_USERNAME, ADMIN_PASSWORD)

    page.locator("tr.model-headerhit th a").click()
    page.wait_for_url(example_site.url(CHANGELIST))
    rows = page.locator("#result_list tbody tr")
    # The three views, the one visitor (of the first page, fetched along with its
    # view) and its second view (docs/visits.md).
    assert sorted(rows.locator("td.field-kind").all_inner_texts()) == [
        "page view",
        "page view",
        "page view",
        "second view",
        "visitor-day",
    ]
    # The admin is styled: whitenoise serves the collected, hashed CSS.
    header = page.locator("#header")
    assert header.evaluate("e => getComputedStyle(e).backgroundColor") != TRANSPARENT

    page.locator('details[data-filter-title="date"]').get_by_role("link", name="Today").click()
    page.wait_for_url("**when=today**")
    site_filter = page.locator('details[data-filter-title="site"]')
    site_filter.get_by_role("link", name=example_site.host).click()
    page.wait_for_url("**site=**")
    page.locator("#searchbar").fill("hello-counter")
    page.locator("#searchbar").press("Enter")
    page.wait_for_url("**q=hello-counter**")
    assert "when=today" in page.url
    assert rows.count() == 1
    assert rows.locator("td.field-path").all_inner_texts() == ["/posts/hello-counter/"]
    assert rows.locator("td.field-site").all_inner_texts() == [example_site.host]
    # The list shows what the user agent was taken for; the whole of it is on the hit's page.
    assert rows.locator("td.field-browser").all_inner_texts() == ["Chrome"]
    assert rows.locator("td.field-device").all_inner_texts() == ["desktop"]
    assert rows.locator("td.field-traffic_label").all_inner_texts() == ["person"]
    page.screenshot(path=artifacts / "admin-page-views-list.png", full_page=True)

    rows.first.locator("th a").click()
    page.wait_for_url(f"**{CHANGELIST}*/change/**")
    [hit] = [row for row in hits.rows() if row["path"] == "/posts/hello-counter/"]
    assert str(hit["id"]).replace("-", "") in page.url.replace("-", "")
    table = page.locator("table.lambdactr-headers")
    user_agent_cell = table.locator("tr", has=page.locator("th", has_text="User-Agent")).locator(
        "td"
    )
    assert user_agent_cell.inner_text() == user_agent
    sec_fetch_dest = table.locator("tr", has=page.locator("th", has_text="Sec-Fetch-Dest"))
    assert sec_fetch_dest.locator("td").inner_text() == "style"
    assert page.locator(".field-path .readonly").inner_text() == "/posts/hello-counter/"
    # A log: nothing to save or delete by hand here.
    assert page.locator('input[type="submit"]').count() == 0
    page.screenshot(path=artifacts / "admin-page-view-detail.png", full_page=True)


def test_a_headless_browser_is_stored_as_a_bot_and_not_shown_as_a_person(
    new_context, example_site, hits, headless_user_agent, owner_session
):
    robot = new_context(person=False)
    beacons = Beacons(robot, example_site.stylesheet_url)
    visits = Beacons(robot, example_site.visitor_day_url)
    page = robot.new_page()
    for path in ["/", "/about/"]:
        page.goto(example_site.url(path))
    assert page.evaluate("navigator.userAgent") == headless_user_agent
    assert beacons.settle(page) == 2
    visits.settle(page)

    # Every request is stored, and labelled: the user agent says HeadlessChrome.
    rows = hits.rows()
    assert sorted((row["kind"], row["path"]) for row in rows) == [
        ("second", "/about/"),
        ("view", "/"),
        ("view", "/about/"),
        ("visitor", "/"),
    ]
    for row in rows:
        assert row["user_agent"] == headless_user_agent
        assert (row["is_bot"], row["bot_reason"]) == (True, "crawler")
        assert (row["browser"], row["device"]) == ("HeadlessChrome", "bot")
        assert row["verified"] is True
        # Only the user agent gives it away: it loads the links as a page does,
        # and sends a language.
        assert row["headers"]["Sec-Fetch-Dest"] == "style"
        assert row["headers"]["Accept-Language"]

    owner = new_context(storage_state=owner_session).new_page()
    owner.goto(example_site.url(CHANGELIST))
    traffic = owner.locator('details[data-filter-title="traffic"]')
    assert traffic.locator("li.selected").inner_text() == "People"
    listed = owner.locator("#result_list tbody tr")
    assert listed.count() == 0
    assert owner.locator(".paginator").inner_text().startswith("0 ")

    traffic.get_by_role("link", name="Bots").click()
    owner.wait_for_url("**traffic=bot**")
    # Two views, the visitor-day and its second view.
    assert listed.count() == 4
    assert (
        listed.locator("td.field-traffic_label").all_inner_texts()
        == ["bot: crawler user agent"] * 4
    )
    assert listed.locator("td.field-browser").all_inner_texts() == ["HeadlessChrome"] * 4
