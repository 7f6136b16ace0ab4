"""A logged-in visitor: the browser sends its cookies to the counter, which keeps none."""

from __future__ import annotations

import json

import pytest

from tests.e2e.browsing import Beacons, log_in
from tests.e2e.servers import ADMIN_PASSWORD, ADMIN_USERNAME

pytestmark = pytest.mark.browser


def test_no_cookie_value_is_stored(new_context, example_site, hits):
    context = new_context()
    page = context.new_page()
    log_in(page, example_site, ADMIN_USERNAME, ADMIN_PASSWORD)
    cookies = {cookie["name"]: cookie["value"] for cookie in context.cookies(example_site.base_url)}
    assert {"sessionid", "csrftoken"} <= cookies.keys()
    beacons = Beacons(context, example_site.stylesheet_url)
    visits = Beacons(context, example_site.visitor_day_url)

    page.goto(example_site.url("/posts/hello-counter/"))

    assert beacons.settle(page) == 1
    assert visits.settle(page) == 1
    # The browser did send both cookies with both of the counter's requests...
    for request in (beacons.requests[0], visits.requests[0]):
        sent = request.all_headers()["cookie"]
        for name in ("sessionid", "csrftoken"):
            assert f"{name}={cookies[name]}" in sent
    # ...and no column of either stored row holds either value, in any form.
    rows = hits.rows()
    # Fetched side by side, so stored in either order.
    assert sorted((row["kind"], row["path"]) for row in rows) == [
        ("view", "/posts/hello-counter/"),
        ("visitor", "/posts/hello-counter/"),
    ]
    stored = json.dumps(rows, default=str) + repr(rows)
    for name in ("sessionid", "csrftoken"):
        assert cookies[name] not in stored
    assert all("Cookie" not in row["headers"] for row in rows)
