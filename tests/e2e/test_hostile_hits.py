"""Anyone can send the counter any headers: the admin shows them as text and runs nothing."""

from __future__ import annotations

import urllib.request
from urllib.parse import urlencode

import pytest
from django.core import signing

from lambdactr_django.beacon.signing import DATED_SIGNING_SALT

pytestmark = pytest.mark.browser

CHANGELIST = "/admin/lambdactr_django/headerhit/"
ALL_TRAFFIC = "?traffic=all"
REFERRER = "javascript:alert(1)"
# Each is sent as the User-Agent and named as the page's path; the last would
# also set a flag if any of it ran without a dialog.
PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    '\'><svg onload="window.lambdactrPwned=1"><script>window.lambdactrPwned=1</script>',
]
FLAG = "window.lambdactrPwned"


def _send_hostile_hit(example_site, payload: str) -> None:
    # A token as the site's own template tag would sign it, naming a javascript:
    # URL as the referrer and the payload as the path (dated, as it names a referrer).
    token = signing.TimestampSigner(
        key=example_site.env["SECRET_KEY"], salt=DATED_SIGNING_SALT
    ).sign_object([example_site.host, f"/{payload}", REFERRER], compress=True)
    request = urllib.request.Request(
        f"{example_site.stylesheet_url}?{urlencode({'t': token})}",
        headers={"User-Agent": payload, "Referer": REFERRER, "Accept-Language": "en"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def _assert_inert(page, dialogs: list[str]) -> None:
    page.wait_for_load_state("load")
    assert (dialogs, page.evaluate(f"typeof {FLAG}")) == ([], "undefined")
    # Nothing stored becomes a link a click would run.
    assert page.locator('[href^="javascript:" i]').count() == 0


def test_hostile_hits_are_shown_as_text(new_context, example_site, hits, owner_session):
    for payload in PAYLOADS:
        _send_hostile_hit(example_site, payload)
    rows = hits.rows()
    assert sorted(row["user_agent"] for row in rows) == sorted(PAYLOADS)
    assert {(row["referrer"], row["headers"]["Referer"]) for row in rows} == {(REFERRER, REFERRER)}
    assert all(row["verified"] for row in rows)
    page = new_context(storage_state=owner_session).new_page()
    dialogs: list[str] = []

    def dismiss(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)

    page.goto(example_site.url(CHANGELIST + ALL_TRAFFIC))
    _assert_inert(page, dialogs)
    listed = page.locator("#result_list tbody tr")
    assert sorted(listed.locator("td.field-path").all_inner_texts()) == sorted(
        f"/{payload}" for payload in PAYLOADS
    )
    assert listed.locator("td.field-referrer").all_inner_texts() == [REFERRER] * len(PAYLOADS)

    detail_urls = listed.locator("th a").evaluate_all("links => links.map(a => a.href)")
    assert len(detail_urls) == len(PAYLOADS)
    shown_agents = []
    for url in detail_urls:
        page.goto(url)
        _assert_inert(page, dialogs)
        shown_agents.append(page.locator(".field-user_agent .readonly").inner_text())
        headers = page.locator("table.lambdactr-headers")
        referer = headers.locator("tr", has=page.locator("th", has_text="Referer"))
        assert referer.locator("td").inner_text() == REFERRER
        assert page.locator(".field-referrer .readonly").inner_text() == REFERRER
    assert sorted(shown_agents) == sorted(PAYLOADS)

    # The search box and the filters render request data too.
    page.goto(example_site.url(CHANGELIST + ALL_TRAFFIC + "&verified=all&q=onerror"))
    _assert_inert(page, dialogs)
    searched = page.locator("#result_list tbody td.field-path").all_inner_texts()
    assert searched == ["/" + PAYLOADS[1]]

    page.goto(example_site.url(CHANGELIST + "statistics/" + ALL_TRAFFIC))
    _assert_inert(page, dialogs)
    top_pages = page.locator("table", has=page.locator("caption", has_text="Top pages"))
    shown_pages = top_pages.locator("td.lambdactr-label").all_inner_texts()
    assert sorted(shown_pages) == sorted(f"{example_site.host}/{payload}" for payload in PAYLOADS)
    assert page.locator(".lambdactr-total .lambdactr-number").first.inner_text() == str(
        len(PAYLOADS)
    )
