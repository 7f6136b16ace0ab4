"""Daily visitors: a browser fetches the visitor link once a day, whatever it views."""

from __future__ import annotations

import json
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


def _write_cost(artifacts, engine: str, visits: Beacons) -> None:
    """What the visitor link costs per page load, as the browser measured it."""
    loads = []
    for request in visits.requests:
        response = request.response()
        sizes = request.sizes()
        loads.append(
            {
                "status": response.status if response else None,
                "request_bytes": sizes["requestHeadersSize"] + sizes["requestBodySize"],
                "response_bytes": sizes["responseHeadersSize"] + sizes["responseBodySize"],
            }
        )
    path = artifacts / f"visits-cost-{engine}.json"
    path.write_text(json.dumps({"engine": engine, "requests_per_page": 1, "loads": loads}))
    print(f"visitor link cost in {engine}: {loads}")


def _follow(page, example_site, name: str, path: str) -> None:
    page.get_by_role("link", name=name, exact=True).click()
    page.wait_for_url(example_site.url(path))


def test_one_browser_is_one_visit_a_day_and_its_second_view_is_told(
    new_context, example_site, hits, artifacts
):
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
    # Every page, the reloaded one too, revalidates the visitor link: the first
    # request of the day is answered 200 with midnight + 1 s, the second 200 with
    # midnight + 2 s, the later ones 304 (docs/visits.md).
    assert visits.settle(page) == 5
    assert _daily(example_site.served(since=log_start)) == [200, 200, 304, 304, 304]
    [visitor] = hits.rows(kind="visitor")
    # The visit's entry page is the visitor-day's path.
    assert (visitor["site"], visitor["path"], visitor["verified"]) == (
        example_site.host,
        "/",
        True,
    )
    assert visitor["is_bot"] is False
    assert "If-Modified-Since" not in visitor["headers"]
    [second] = hits.rows(kind="second")
    assert second["path"] == "/about/"
    sent = [request.header_value("if-modified-since") for request in visits.requests]
    midnight = parsedate_to_datetime(visits.requests[0].response().headers["last-modified"])
    midnight_s = midnight.timestamp() - 1
    assert midnight_s % DAY == 0  # example_project's TIME_ZONE is UTC
    assert abs(time.time() - midnight_s) < DAY + CLOCK_SLACK
    assert [
        None if value is None else parsedate_to_datetime(value).timestamp() - midnight_s
        for value in sent
    ] == [None, 1, 2, 2, 2]

    # What keeps it revalidated and shared by every browser at the same count:
    # private, no-cache, and nothing that could tell this browser from another.
    answer = visits.requests[0].response()
    assert answer is not None
    assert answer.headers["cache-control"] == "private, no-cache"
    assert "etag" not in answer.headers
    assert "set-cookie" not in answer.headers
    _write_cost(artifacts, "chromium", visits)

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
