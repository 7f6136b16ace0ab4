"""Daily visitors: a browser fetches the visitor link once a day, whatever it views."""

from __future__ import annotations

import re
import time
from email.utils import parsedate_to_datetime

import pytest

from tests.e2e.browsing import Beacons

pytestmark = pytest.mark.browser

DAY = 24 * 60 * 60
# Seconds between the server writing a response and the test reading its headers.
CLOCK_SLACK = 10


def _daily(served: list[tuple[str, int]]) -> list[int]:
    """The status of each visitor-link request the server answered."""
    return [status for path, status in served if path == "/ctr/d.css"]


def _follow(page, example_site, name: str, path: str) -> None:
    page.get_by_role("link", name=name, exact=True).click()
    page.wait_for_url(example_site.url(path))


def test_one_browser_is_one_visitor_a_day(new_context, example_site, hits):
    context = new_context()
    views = Beacons(context, example_site.stylesheet_url)
    visits = Beacons(context, example_site.visitor_day_url)
    page = context.new_page()
    log_start = len(example_site.log())

    page.goto(example_site.url("/"))
    _follow(page, example_site, "About", "/about/")
    page.reload()
    _follow(page, example_site, "A post", "/posts/hello-counter/")
    page.goto(example_site.url("/"))

    assert views.settle(page) == 5
    assert [row["path"] for row in hits.rows(kind="view")] == [
        "/",
        "/about/",
        "/about/",
        "/posts/hello-counter/",
        "/",
    ]
    # Every page, the reloaded one too, loads the visitor link; only the first
    # load reaches the server. Chromium answers the other four from its cache,
    # without revalidating (no If-Modified-Since, so no 304 either).
    assert visits.settle(page) == 5
    assert _daily(example_site.served(since=log_start)) == [200]
    [visitor] = hits.rows(kind="visitor")
    assert (visitor["site"], visitor["path"], visitor["verified"]) == (example_site.host, "", True)
    assert visitor["is_bot"] is False
    assert "If-Modified-Since" not in visitor["headers"]

    # What keeps it in the cache: private, until the next midnight, and nothing
    # that could tell this browser from another.
    answer = visits.requests[0].response()
    assert answer is not None
    assert answer.status == 200
    match = re.fullmatch(r"private, max-age=(\d+)", answer.headers["cache-control"])
    assert match, answer.headers["cache-control"]
    midnight = parsedate_to_datetime(answer.headers["last-modified"]).timestamp()
    assert midnight % DAY == 0  # example_project's TIME_ZONE is UTC
    assert abs(midnight + DAY - time.time() - int(match[1])) < CLOCK_SLACK
    assert "etag" not in answer.headers
    assert "set-cookie" not in answer.headers

    # A new profile, as after clearing the cache or in a private window: counted again.
    fresh = new_context()
    fresh_views = Beacons(fresh, example_site.stylesheet_url)
    fresh_visits = Beacons(fresh, example_site.visitor_day_url)
    fresh_page = fresh.new_page()
    log_start = len(example_site.log())
    fresh_page.goto(example_site.url("/about/"))
    assert fresh_views.settle(fresh_page) == 1
    assert fresh_visits.settle(fresh_page) == 1
    assert _daily(example_site.served(since=log_start)) == [200]
    assert len(hits.rows(kind="view")) == 6
    assert len(hits.rows(kind="visitor")) == 2

    # A hard reload (Shift+reload: the cache bypassed, no validator sent) of the
    # first browser counts it again, as the README says.
    log_start = len(example_site.log())
    cdp = context.new_cdp_session(page)
    with page.expect_navigation():
        cdp.send("Page.reload", {"ignoreCache": True})
    assert views.settle(page) == 6
    assert visits.settle(page) == 6
    assert _daily(example_site.served(since=log_start)) == [200]
    assert hits.rows(kind="visitor")[-1]["headers"].get("Cache-Control") == "no-cache"
    assert len(hits.rows(kind="view")) == 7
    assert len(hits.rows(kind="visitor")) == 3
