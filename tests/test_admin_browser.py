"""Stored markup stays inert in a real browser (Chromium driven by Playwright)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from lambdactr_django.models import HeaderHit
from tests.test_admin_security import CHANGELIST, PAYLOADS, hostile_hit

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = os.environ.get("LAMBDACTR_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Chromium is not installed"),
]
# Without these, Chromium tries the network at start-up; there is none here.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def session_cookie() -> str:
    # Set up through the ORM before Playwright's event loop starts in this thread.
    account = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(account)
    return client.cookies["sessionid"].value


@pytest.fixture
def pages(live_server, session_cookie: str) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    hits = [hostile_hit(payload) for payload in PAYLOADS]
    urls = [
        CHANGELIST,
        CHANGELIST + "?verified=all&external=yes",
        CHANGELIST + "?q=onerror",
        *(f"{CHANGELIST}{hit.pk}/change/" for hit in hits),
    ]
    yield [live_server.url + url for url in urls]
    assert HeaderHit.objects.count() == len(PAYLOADS)


def test_no_stored_script_runs_and_no_dialog_opens(
    live_server,  # type: ignore[no-untyped-def]
    session_cookie: str,
    pages: list[str],
) -> None:
    dialogs: list[str] = []
    seen: dict[str, tuple[object, int, str]] = {}
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context()
        context.add_cookies(
            [{"name": "sessionid", "value": session_cookie, "url": live_server.url}]
        )
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        for url in pages:
            page.goto(url, wait_until="load")
            # Give an onerror handler or a timer the time to fire.
            page.wait_for_timeout(150)
            seen[url] = (
                page.evaluate("window.__pwned"),
                page.locator('a[href^="javascript:" i]').count(),
                page.title(),
            )
        browser.close()

    assert dialogs == []
    for url, (pwned, javascript_links, title) in seen.items():
        assert pwned is None, url
        assert javascript_links == 0, url
        # Really the admin page, not the login page.
        assert "Log in" not in title, url
    # The payloads were on the pages, as text.
    assert len(seen) == len(pages)
