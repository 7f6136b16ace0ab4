"""The site owner reads the page views in the admin, as a person would."""

from __future__ import annotations

import secrets

import pytest

from tests.e2e.browsing import Beacons, log_in
from tests.e2e.servers import ADMIN_PASSWORD, ADMIN_USERNAME

pytestmark = pytest.mark.browser

CHANGELIST = "/admin/lambdactr_django/headerhit/"
TRANSPARENT = "rgba(0, 0, 0, 0)"


def test_the_owner_finds_a_view_in_the_admin(browser, new_context, example_site, hits, artifacts):
    marker = f"lambdactr-e2e/{secrets.token_hex(4)}"
    probe = browser.new_page()
    user_agent = f"{probe.evaluate('navigator.userAgent')} {marker}"
    probe.close()
    context = new_context(user_agent=user_agent)
    beacons = Beacons(context, example_site.stylesheet_url)
    page = context.new_page()
    for path in ["/", "/posts/hello-counter/", "/about/"]:
        page.goto(example_site.url(path))
    assert page.evaluate("navigator.userAgent") == user_agent
    assert beacons.settle(page) == 3
    log_in(page, example_site, ADMIN_USERNAME, ADMIN_PASSWORD)

    page.locator("tr.model-headerhit th a").click()
    page.wait_for_url(example_site.url(CHANGELIST))
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 3
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
    assert marker in rows.locator("td.field-user_agent").inner_text()
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
