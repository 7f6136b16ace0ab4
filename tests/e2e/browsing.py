"""What the tests do with Chromium: watch the counter's stylesheet requests, log in."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Request

    from tests.e2e.servers import ExampleSite


class Beacons:
    """The counter stylesheet requests one browser context makes."""

    def __init__(self, context: BrowserContext, url_prefix: str) -> None:
        self.url_prefix = url_prefix
        self.requests: list[Request] = []
        self.ended: list[Request] = []
        self.failures: list[str] = []
        self._last_started = time.monotonic()
        context.on("request", self._started)
        context.on("requestfinished", self._finished)
        context.on("requestfailed", self._failed)

    def _matches(self, request: Request) -> bool:
        return request.url.startswith(self.url_prefix)

    def _started(self, request: Request) -> None:
        if self._matches(request):
            self.requests.append(request)
            self._last_started = time.monotonic()

    def _finished(self, request: Request) -> None:
        if self._matches(request):
            self.ended.append(request)

    def _failed(self, request: Request) -> None:
        if self._matches(request):
            self.ended.append(request)
            self.failures.append(f"{request.url}: {request.failure}")

    def settle(self, page: Page, quiet: float = 0.3, timeout: float = 10.0) -> int:
        """How many were made, once all have ended and none started for ``quiet`` seconds."""
        # Playwright delivers events only while it is called, hence wait_for_timeout.
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.05) + 1):
            done = len(self.ended) == len(self.requests)
            if done and time.monotonic() - self._last_started >= quiet:
                break
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{len(self.requests) - len(self.ended)} counter request(s) "
                    f"still running after {timeout}s"
                )
            page.wait_for_timeout(50)
        assert not self.failures, self.failures
        return len(self.requests)


def log_in(page: Page, site: ExampleSite, username: str, password: str) -> None:
    page.goto(site.url("/admin/login/?next=/admin/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(site.url("/admin/"))
