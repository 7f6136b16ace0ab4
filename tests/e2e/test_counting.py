"""A real Chromium viewing the example site: one view, one hit, with or without JavaScript."""

from __future__ import annotations

import pytest

from tests.e2e.browsing import Beacons

pytestmark = pytest.mark.browser

PAGES = ["/", "/about/", "/posts/hello-counter/"]
JAVASCRIPT = pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
N = 5


def _javascript_runs(context) -> bool:
    page = context.new_page()
    page.set_content("<script>document.documentElement.dataset.ran = 'yes'</script>")
    ran = page.locator("html").get_attribute("data-ran") == "yes"
    page.close()
    return ran


# How the counter labels the browser the tests play a person with.
PERSON_LABELS = {
    "browser": "Chrome",
    "os": "Linux",
    "device": "desktop",
    "is_bot": False,
    "bot_reason": "",
    "prefetch": "",
}


def _labels(row: dict) -> dict:
    return {name: row[name] for name in PERSON_LABELS}


@JAVASCRIPT
@pytest.mark.parametrize("path", PAGES)
def test_a_view_stores_one_verified_hit(
    new_context, example_site, hits, person_user_agent, javascript, path
):
    context = new_context(java_script_enabled=javascript)
    assert _javascript_runs(context) is javascript
    beacons = Beacons(context, example_site.stylesheet_url)
    visits = Beacons(context, example_site.visitor_day_url)
    page = context.new_page()

    page.goto(example_site.url(path))

    assert beacons.settle(page) == 1
    [hit] = hits.rows(kind="view")
    assert hit["site"] == example_site.host
    assert hit["path"] == path
    assert hit["verified"] is True
    assert hit["referrer"] == ""
    assert hit["resource"] == "stylesheet"
    sent = beacons.requests[0].headers
    assert hit["user_agent"] == sent["user-agent"] == person_user_agent
    assert _labels(hit) == PERSON_LABELS
    headers = hit["headers"]
    # A stylesheet load, as the browser itself describes it.
    assert headers["Sec-Fetch-Dest"] == "style"
    assert headers["Sec-Fetch-Mode"] == "no-cors"
    assert headers["Sec-Fetch-Site"] == "same-origin"
    assert headers["Accept"].startswith("text/css")
    assert headers["Referer"] == example_site.url(path)
    assert headers["User-Agent"] == hit["user_agent"]
    assert headers["Accept-Language"] == "en-US"
    # The browser's first page of the day: one visitor too, whose path is the
    # visit's entry page.
    assert visits.settle(page) == 1
    [visitor] = hits.rows(kind="visitor")
    assert (visitor["site"], visitor["path"], visitor["referrer"]) == (
        example_site.host,
        path,
        "",
    )
    assert visitor["verified"] is True
    assert _labels(visitor) == PERSON_LABELS
    assert visitor["headers"]["Sec-Fetch-Dest"] == "style"


@JAVASCRIPT
def test_each_reload_is_counted(new_context, example_site, hits, javascript):
    context = new_context(java_script_enabled=javascript)
    beacons = Beacons(context, example_site.stylesheet_url)
    page = context.new_page()
    page.goto(example_site.url("/about/"))

    for _ in range(N):
        page.reload()

    assert beacons.settle(page) == 1 + N
    rows = hits.rows(kind="view")
    assert [row["path"] for row in rows] == ["/about/"] * (1 + N)
    assert all(row["verified"] for row in rows)
    # Reloading is viewing again, not another visitor.
    assert len(hits.rows(kind="visitor")) == 1


@JAVASCRIPT
def test_each_navigation_is_counted(new_context, example_site, hits, javascript):
    context = new_context(java_script_enabled=javascript)
    beacons = Beacons(context, example_site.stylesheet_url)
    page = context.new_page()
    page.goto(example_site.url("/"))
    links = {"About": "/about/", "A post": "/posts/hello-counter/", "Home": "/"}
    clicks = ["About", "A post", "Home", "About", "A post"]
    assert len(clicks) == N

    for name in clicks:
        page.get_by_role("link", name=name, exact=True).click()
        page.wait_for_url(example_site.url(links[name]))

    assert beacons.settle(page) == 1 + N
    rows = hits.rows(kind="view")
    assert [row["path"] for row in rows] == ["/"] + [links[name] for name in clicks]
    assert all(row["site"] == example_site.host and row["verified"] for row in rows)
    # Moving around inside the site is not an external referrer.
    assert [row["referrer"] for row in rows] == [""] * (1 + N)


# Notes each pageshow in sessionStorage (console messages get replayed when a
# page comes back from the cache), so the test can tell a page restored from the
# back/forward cache (persisted) from one loaded again.
PAGESHOW_LOGGER = """
addEventListener("pageshow", (event) => {
  const entry = performance.getEntriesByType("navigation")[0];
  const shown = JSON.parse(sessionStorage.getItem("pageshows") || "[]");
  shown.push(`${location.pathname} persisted=${event.persisted} type=${entry.type}`);
  sessionStorage.setItem("pageshows", JSON.stringify(shown));
});
"""
PAGESHOWS = "JSON.parse(sessionStorage.getItem('pageshows') || '[]')"


@pytest.mark.parametrize(
    ("chromium", "history_hits", "pageshows"),
    [
        # Playwright's default: history navigation loads the document again
        # (from the HTTP cache) and so fetches the no-store stylesheet again.
        (
            "browser",
            ["/about/", "/", "/about/", "/posts/hello-counter/"],
            [
                "/about/ persisted=false type=back_forward",
                "/ persisted=false type=back_forward",
                "/about/ persisted=false type=back_forward",
                "/posts/hello-counter/ persisted=false type=back_forward",
            ],
        ),
        # A visitor's Chrome: pages come back from the back/forward cache as
        # they were left, and nothing is fetched, so nothing is counted.
        (
            "bfcache_browser",
            [],
            [
                "/about/ persisted=true type=navigate",
                "/ persisted=true type=navigate",
                "/about/ persisted=true type=navigate",
                "/posts/hello-counter/ persisted=true type=navigate",
            ],
        ),
    ],
    ids=["bfcache-off", "bfcache-on"],
)
def test_back_and_forward(
    request, new_context, example_site, hits, chromium, history_hits, pageshows
):
    context = new_context(on=request.getfixturevalue(chromium))
    context.add_init_script(PAGESHOW_LOGGER)
    beacons = Beacons(context, example_site.stylesheet_url)
    page = context.new_page()
    page.goto(example_site.url("/"))
    page.get_by_role("link", name="About", exact=True).click()
    page.wait_for_url(example_site.url("/about/"))
    page.get_by_role("link", name="A post", exact=True).click()
    page.wait_for_url(example_site.url("/posts/hello-counter/"))
    assert beacons.settle(page) == 3
    page.evaluate("sessionStorage.removeItem('pageshows')")
    log_before = len(example_site.log())

    moves = [page.go_back, page.go_back, page.go_forward, page.go_forward]
    for count, move in enumerate(moves, start=1):
        # A page restored from the back/forward cache fires no load event;
        # pageshow comes either way, after load when there is one.
        move(wait_until="commit")
        page.wait_for_function(f"{PAGESHOWS}.length >= {count}")
        beacons.settle(page)

    assert page.evaluate(PAGESHOWS) == pageshows
    rows = hits.rows(kind="view")
    assert [row["path"] for row in rows[3:]] == history_hits
    assert all(row["verified"] for row in rows)
    # Either way the server is not asked for any document again, only for the
    # page-view stylesheet: the visitor link comes from the browser's cache.
    served = example_site.served(since=log_before)
    assert served == [("/ctr/s.css", 200)] * len(history_hits)
    assert len(hits.rows(kind="visitor")) == 1
