"""The site owner reads the statistics page, in the light and the dark theme."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.e2e.browsing import Beacons

pytestmark = pytest.mark.browser

CHANGELIST = "/admin/lambdactr_django/headerhit/"
STATISTICS = CHANGELIST + "statistics/"


def _browse(context, example_site, paths: list[str], reload: bool = False) -> None:
    views = Beacons(context, example_site.stylesheet_url)
    visits = Beacons(context, example_site.visitor_day_url)
    page = context.new_page()
    for path in paths:
        page.goto(example_site.url(path))
    if reload:
        page.reload()
    views.settle(page)
    visits.settle(page)
    page.close()


def _table(page, caption: str) -> list[list[str]]:
    table = page.locator("table", has=page.locator("caption", has_text=caption))
    return [
        [cell.strip() for cell in row.locator("th, td").all_text_contents()]
        for row in table.locator("tbody tr").all()
    ]


def _style(locator, expression: str) -> str:
    return locator.evaluate(f"e => {expression}")


def test_the_owner_reads_the_statistics(new_context, example_site, hits, owner_session, artifacts):
    host = example_site.host
    # Two people: one reads three pages, the other reloads the home page. And a
    # headless browser, which is a bot.
    _browse(new_context(), example_site, ["/", "/about/", "/posts/hello-counter/"])
    _browse(new_context(), example_site, ["/"], reload=True)
    _browse(new_context(person=False), example_site, ["/"])
    stored = [(row["kind"], row["is_bot"]) for row in hits.rows()]
    # Each person's second view too (docs/visits.md); the bot saw one page.
    assert sorted(stored) == sorted(
        [("view", False)] * 5
        + [("visitor", False)] * 2
        + [("second", False)] * 2
        + [("view", True), ("visitor", True)]
    )

    owner = new_context(storage_state=owner_session)
    page = owner.new_page()
    page.goto(example_site.url("/admin/"))
    page.locator("tr.model-headerhit th a").click()
    page.wait_for_url(example_site.url(CHANGELIST))
    page.get_by_role("link", name="Statistics", exact=True).click()
    page.wait_for_url(f"**{STATISTICS}*")

    # People only, by default: 5 views and 2 visitors, whose visits both had a
    # second view (a reload is one): no bounce, 2.5 views a visit.
    assert page.locator(".lambdactr-period strong").inner_text() == "people"
    totals = page.locator(".lambdactr-total .lambdactr-number")
    assert totals.all_inner_texts() == ["5", "2", "0%", "2.5"]
    today = dt.datetime.now(dt.UTC).date()
    assert _table(page, "Views and visitors per day") == [
        [f"{today:%a} {today.day} {today:%b %Y}", "5", "2"]
    ]
    assert page.locator("svg.lambdactr-chart g title").all_text_contents() == [
        f"{today.isoformat()}: 5 views, 2 visitors"
    ]
    # Visitors per page cannot be known: said, not shown as 0.
    assert _table(page, "Top pages") == [
        [f"{host}/", "3", "—"],
        [f"{host}/about/", "1", "—"],
        [f"{host}/posts/hello-counter/", "1", "—"],
    ]
    assert (
        page.locator(".lambdactr-hidden")
        .inner_text()
        .startswith("Not shown: 2 bot hits (Traffic filter).")
    )
    assert _table(page, "Top referrers") == [["Nothing in this selection."]]
    assert _table(page, "Browsers") == [["Chrome", "5", "2"]]
    assert _table(page, "Operating systems") == [["Linux", "5", "2"]]
    assert _table(page, "Devices") == [["desktop", "5", "2"]]
    # The bot is not hidden from the owner: it has its share, and its reason.
    assert _table(page, "Traffic") == [
        ["People", "5", "2"],
        ["Bots", "1", "1"],
        ["crawler user agent", "1", "1"],
        ["Prefetches", "0", "0"],
    ]
    light_background = _style(page.locator("body"), "getComputedStyle(e).backgroundColor")
    light_bar = _style(page.locator("svg.lambdactr-chart rect.views"), "getComputedStyle(e).fill")
    page.screenshot(path=artifacts / "admin-statistics-light.png", full_page=True)

    # Each number opens the hit list of the hits it counts.
    totals.first.click()
    page.wait_for_url("**kind__exact=view**")
    listed = page.locator("#result_list tbody tr")
    assert listed.locator("td.field-kind").all_inner_texts() == ["page view"] * 5
    assert listed.locator("td.field-traffic_label").all_inner_texts() == ["person"] * 5

    # The dark theme, as a browser set to dark shows it.
    dark = new_context(storage_state=owner_session, color_scheme="dark").new_page()
    dark.goto(example_site.url(STATISTICS))
    assert dark.locator(".lambdactr-total .lambdactr-number").all_inner_texts() == [
        "5",
        "2",
        "0%",
        "2.5",
    ]
    dark_background = _style(dark.locator("body"), "getComputedStyle(e).backgroundColor")
    dark_bar = _style(dark.locator("svg.lambdactr-chart rect.views"), "getComputedStyle(e).fill")
    dark.screenshot(path=artifacts / "admin-statistics-dark.png", full_page=True)
    assert light_background == "rgb(255, 255, 255)"
    assert dark_background != light_background
    # The chart is drawn in the theme's colours (an unstyled SVG bar is black).
    assert "rgb(0, 0, 0)" not in (light_bar, dark_bar)
    assert dark_bar != light_bar
