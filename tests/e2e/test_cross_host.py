"""Pages on another host: the snippet from lambdactr_snippet, and external referrers."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.e2e.browsing import Beacons
from tests.e2e.servers import Route, static_page

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_a_static_page_on_another_host_is_counted(
    new_context, example_site, hits, little_server, signed
):
    # localhost:<port> and 127.0.0.1:<port>: another origin, and another site.
    path = "/signed.html" if signed else "/plain.html"
    page_url = little_server.url(path, host="localhost")
    pages = [page_url] if signed else []
    snippet = example_site.manage(
        "lambdactr_snippet", "--base-url", example_site.base_url, *pages
    ).strip()
    view_link, visitor_link = snippet.splitlines()
    assert view_link.startswith(f'<link rel="stylesheet" href="{example_site.stylesheet_url}')
    assert visitor_link.startswith(f'<link rel="stylesheet" href="{example_site.visitor_day_url}')
    assert ("?t=" in view_link) is signed
    # One visitor link, signed page or not: the browser caches one copy a day.
    assert "?s=" not in visitor_link
    little_server.routes[path] = Route(static_page("A static page", snippet))
    context = new_context()
    beacons = Beacons(context, example_site.stylesheet_url)
    visits = Beacons(context, example_site.visitor_day_url)
    page = context.new_page()

    page.goto(page_url)

    assert beacons.settle(page) == 1
    assert visits.settle(page) == 1
    # The visitor is counted for the page's site, signed or read from the Referer.
    [visitor] = hits.rows(kind="visitor")
    assert (visitor["site"], visitor["path"]) == (
        f"localhost:{little_server.port}",
        urlsplit(page_url).path,
    )
    assert visitor["verified"] is True
    assert visitor["headers"]["Sec-Fetch-Site"] == "cross-site"
    [hit] = hits.rows(kind="view")
    assert hit["site"] == f"localhost:{little_server.port}"
    assert hit["path"] == path
    assert hit["verified"] is True
    assert hit["referrer"] == ""
    headers = hit["headers"]
    # referrerpolicy="no-referrer-when-downgrade" lets the whole page URL through.
    assert headers["Referer"] == page_url
    assert headers["Sec-Fetch-Site"] == "cross-site"
    assert headers["Sec-Fetch-Dest"] == "style"


def test_a_visitor_from_another_site_is_counted_with_its_origin(
    new_context, example_site, hits, little_server
):
    link = example_site.url("/about/?utm_source=e2e")
    little_server.routes["/links.html"] = Route(
        static_page("Links", body=f'<a href="{link}">the example site</a>')
    )
    context = new_context()
    beacons = Beacons(context, example_site.stylesheet_url)
    page = context.new_page()
    page.goto(little_server.url("/links.html?private=1", host="localhost"))

    page.get_by_role("link", name="the example site").click()
    page.wait_for_url(link)

    assert beacons.settle(page) == 1
    [hit] = hits.rows(kind="view")
    assert hit["path"] == "/about/"
    # Chromium's default policy (strict-origin-when-cross-origin) sends another
    # site only the origin: neither the linking page's path nor its query.
    assert hit["referrer"] == f"http://localhost:{little_server.port}/"
    assert hit["verified"] is True
