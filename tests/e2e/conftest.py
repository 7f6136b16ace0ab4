"""Real-browser tests: example_project under gunicorn, driven by Debian's Chromium.

Run just these with ``pytest tests/e2e`` (or leave them out with ``-m "not browser"``).
Without Chromium or Playwright they are skipped, unless LAMBDACTR_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.browsing import log_in
from tests.e2e.servers import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    REPO,
    ExampleSite,
    HitStore,
    LittleServer,
    ThrowawayDatabase,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Playwright

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Playwright turns Chrome's back/forward cache off; a visitor's Chrome has it on.
BFCACHE_OFF_SWITCH = "--disable-back-forward-cache"
ARTIFACTS = REPO / "artifacts"
# Headless Chromium says "HeadlessChrome/<version>" in its user agent, and the
# counter rightly files that under crawlers. A test playing a person sends what
# the same Chromium sends when it has a window, and a language, as every browser does.
HEADLESS = "HeadlessChrome/"
HEADED = "Chrome/"
PERSON_LOCALE = "en-US"
# Every wait on the browser is bounded by this, unless a test says otherwise.
BROWSER_TIMEOUT_MS = 15_000


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives a real Chromium against example_project under gunicorn"
    )


def _unavailable(reason: str) -> None:
    if os.environ.get("LAMBDACTR_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (LAMBDACTR_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(reason)


# Package scope, not session: Playwright's sync API keeps an event loop running
# while it is open, and Django refuses database access from such a thread; the
# privacy audit that runs after this package needs the database.
@pytest.fixture(scope="package")
def playwright_driver() -> Iterator[Playwright]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed")
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as driver:
        yield driver


def _launch(driver: Playwright, **options: Any) -> Browser:
    return driver.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=60_000, **options
    )


@pytest.fixture(scope="package")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """Chromium as Playwright launches it: back/forward cache off."""
    browser = _launch(playwright_driver)
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def bfcache_browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """Chromium with the back/forward cache on, as in a visitor's Chrome."""
    browser = _launch(playwright_driver, ignore_default_args=[BFCACHE_OFF_SWITCH])
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExampleSite]:
    tmp = tmp_path_factory.mktemp("e2e")
    database = ThrowawayDatabase(os.environ.get("DATABASE_URL"), tmp)
    site = ExampleSite(database.url, static_root=tmp / "static", log_path=tmp / "gunicorn.log")
    try:
        site.prepare()
        site.start()
        yield site
    finally:
        site.stop()
        database.drop()


@pytest.fixture(scope="package")
def hits(example_site: ExampleSite) -> Iterator[HitStore]:
    store = HitStore(example_site.database_url)
    yield store
    store.close()


@pytest.fixture(autouse=True)
def _no_hits_yet(browser: Browser, hits: HitStore) -> None:
    # The browser first: without one, skip before starting the server.
    hits.clear()


@pytest.fixture(scope="package")
def headless_user_agent(browser: Browser) -> str:
    """The user agent headless Chromium sends as Playwright launches it."""
    probe = browser.new_page()
    try:
        user_agent: str = probe.evaluate("navigator.userAgent")
    finally:
        probe.close()
    assert HEADLESS in user_agent, user_agent
    return user_agent


@pytest.fixture(scope="package")
def person_user_agent(headless_user_agent: str) -> str:
    """What the same Chromium sends with a window: a person's browser."""
    return headless_user_agent.replace(HEADLESS, HEADED)


@pytest.fixture
def new_context(
    browser: Browser, person_user_agent: str
) -> Iterator[Callable[..., BrowserContext]]:
    """Make browser contexts (on ``browser`` unless given ``on=``), closed after the test.

    They play a person (see HEADLESS) unless made with ``person=False``: then
    they are headless Chromium exactly as Playwright launches it.
    """
    contexts: list[BrowserContext] = []

    def make(on: Browser | None = None, person: bool = True, **options: Any) -> BrowserContext:
        options.setdefault("viewport", {"width": 1280, "height": 900})
        if person:
            options.setdefault("user_agent", person_user_agent)
            options.setdefault("locale", PERSON_LOCALE)
        context = (on or browser).new_context(**options)
        context.set_default_timeout(BROWSER_TIMEOUT_MS)
        context.set_default_navigation_timeout(BROWSER_TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="package")
def owner_session(browser: Browser, example_site: ExampleSite) -> dict[str, Any]:
    """Cookies of the site owner logged in to the admin, for tests that start there."""
    context = browser.new_context()
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    try:
        log_in(context.new_page(), example_site, ADMIN_USERNAME, ADMIN_PASSWORD)
        state: dict[str, Any] = context.storage_state()  # type: ignore[assignment]
    finally:
        context.close()
    return state


@pytest.fixture
def little_server() -> Iterator[LittleServer]:
    server = LittleServer()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
