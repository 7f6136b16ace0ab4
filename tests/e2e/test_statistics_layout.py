"""The statistics page on a phone, in the dark, and the hit list on a wide screen,
measured in real Chromium; and a shared dashboard as a stranger opens it."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

CHANGELIST = "/admin/lambdactr_django/headerhit/"
STATISTICS = CHANGELIST + "statistics/"
PHONE = {"width": 390, "height": 844}
LONG = "/" + "a-very-long-path-segment-" * 12
SHARE = (
    "from django.db.models import Count; "
    "from lambdactr_django.models import HeaderHit, SharedLink; "
    "from lambdactr_django.admin.shared import share_path; "
    "site = HeaderHit.objects.values('site').annotate(n=Count('pk')).order_by('-n')[0]['site']; "
    "print(share_path(SharedLink.objects.create(site=site)))"
)


def _scroll_width(page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def _background(page, selector: str) -> str:
    return str(page.locator(selector).first.evaluate("e => getComputedStyle(e).backgroundColor"))


@pytest.fixture
def seeded(example_site, hits):
    example_site.manage("lambdactr_seed", "--hits", "400", "--days", "30", "--sites", "3", "--yes")
    yield
    # The seed rolls up the days it filled; the next test starts from no hits at all.
    hits.clear()
    hits.clear_rollups()


@pytest.mark.usefixtures("seeded")
def test_the_page_fits_a_phone_and_follows_the_dark_theme(new_context, example_site, owner_session):
    phone = new_context(storage_state=owner_session, viewport=PHONE).new_page()
    phone.goto(example_site.url(STATISTICS + "?when=30d&browser=Chrome"))
    assert phone.locator(".lambdactr-chips li").count() == 1
    assert _scroll_width(phone) <= PHONE["width"]

    light = _background(phone, ".lambdactr-chips li")
    dark_page = new_context(
        storage_state=owner_session, viewport=PHONE, color_scheme="dark"
    ).new_page()
    dark_page.goto(example_site.url(STATISTICS + "?when=30d&browser=Chrome"))
    assert _scroll_width(dark_page) <= PHONE["width"]
    # The admin's dark --darkened-bg, as its dark_mode.css defines it.
    assert (light, _background(dark_page, ".lambdactr-chips li")) == (
        "rgb(248, 248, 248)",
        "rgb(33, 33, 33)",
    )

    # The admin's theme toggle (a light browser, the admin set to dark) wins too.
    toggled = new_context(storage_state=owner_session, color_scheme="light").new_page()
    toggled.goto(example_site.url("/admin/"))
    toggled.evaluate("localStorage.setItem('theme', 'dark')")
    toggled.goto(example_site.url(STATISTICS + "?when=30d&browser=Chrome"))
    assert _background(toggled, ".lambdactr-chips li") == "rgb(33, 33, 33)"


@pytest.mark.usefixtures("seeded")
def test_a_shared_dashboard_fits_a_phone_in_the_dark(new_context, example_site):
    shared = example_site.manage("shell", "--no-imports", "-c", SHARE).strip()
    stranger = new_context(viewport=PHONE, color_scheme="dark").new_page()
    response = stranger.goto(example_site.url(shared + "?when=30d"))
    assert response is not None
    assert response.status == 200
    assert response.headers["referrer-policy"] == "no-referrer"
    assert stranger.locator(".lambdactr-total-views .lambdactr-number").inner_text() != "0"
    assert _scroll_width(stranger) <= PHONE["width"]
    assert _background(stranger, "body") == "rgb(18, 18, 18)"


@pytest.mark.usefixtures("seeded")
def test_the_hit_list_scrolls_its_columns_not_the_page(new_context, example_site, owner_session):
    page = new_context(
        storage_state=owner_session, viewport={"width": 1400, "height": 900}
    ).new_page()
    page.goto(example_site.url(CHANGELIST))
    # Paths as long as a hit may store, without a place to break.
    page.evaluate(
        """long => { for (const cell of document.querySelectorAll('td.field-path'))
            cell.textContent = long; }""",
        LONG,
    )
    assert _scroll_width(page) <= 1400
    results = page.locator("#changelist .results")
    assert results.evaluate("e => e.scrollWidth > e.clientWidth")
