"""Remake the screenshots in docs/img: example_project under gunicorn on a throwaway
SQLite database, filled by lambdactr_seed, photographed in Debian's Chromium.

Usage: .venv/bin/python scripts/screenshots.py [--out docs/img] [--chromium /usr/bin/chromium]

Needs the test extra (Playwright for Python) and Chromium; never downloads a browser.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.e2e.conftest import CHROMIUM_ARGS  # noqa: E402
from tests.e2e.servers import (  # noqa: E402
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    ExampleSite,
    ThrowawayDatabase,
)

STATISTICS = "/admin/lambdactr_django/headerhit/statistics/?when=30d"
HIT_LIST = "/admin/lambdactr_django/headerhit/"
WIDE = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
SHARE = (
    "from lambdactr_django.models import SharedLink; "
    "from lambdactr_django.admin.shared import share_path; "
    "print(share_path(SharedLink.objects.create(site='{site}', label='screenshots')))"
)
BUSIEST_SITE = (
    "from django.db.models import Count; from lambdactr_django.models import HeaderHit; "
    "print(HeaderHit.objects.values('site').annotate(n=Count('pk')).order_by('-n')[0]['site'])"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        database = ThrowawayDatabase(None, Path(tmp))
        site = ExampleSite(
            database.url, static_root=Path(tmp) / "static", log_path=Path(tmp) / "gunicorn.log"
        )
        site.prepare()
        # Sixty days, so the last thirty have thirty before them to compare with.
        site.manage("lambdactr_seed", "--hits", "6000", "--days", "60", "--sites", "3", "--yes")
        busiest = site.manage("shell", "--no-imports", "-c", BUSIEST_SITE).strip()
        shared = site.manage("shell", "--no-imports", "-c", SHARE.format(site=busiest)).strip()
        site.start()
        try:
            _photograph(site, args.out, args.chromium, shared)
        finally:
            site.stop()
            database.drop()


def _photograph(site: ExampleSite, out: Path, chromium: str, shared: str) -> None:
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        # A few people reading now, through the real counter links, for the live view.
        reader = browser.new_context(
            user_agent=_person(browser.version), locale="en-US", viewport=WIDE
        ).new_page()
        for path in ("/", "/about/", "/posts/hello-counter/", "/"):
            reader.goto(site.url(path))
            reader.wait_for_load_state("networkidle")
        login = browser.new_context(viewport=WIDE)
        page = login.new_page()
        page.goto(site.url("/admin/login/?next=/admin/"))
        page.get_by_label("Username").fill(ADMIN_USERNAME)
        page.get_by_label("Password").fill(ADMIN_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(site.url("/admin/"))
        state = login.storage_state()
        for scheme in ("light", "dark"):
            shot = browser.new_context(storage_state=state, viewport=WIDE, color_scheme=scheme)
            view = shot.new_page()
            view.goto(site.url(STATISTICS))
            view.screenshot(path=out / f"statistics-{scheme}.png", full_page=True)
            if scheme == "light":
                view.goto(site.url(HIT_LIST))
                view.screenshot(path=out / "hit-list-light.png")
        phone = browser.new_context(storage_state=state, viewport=PHONE, device_scale_factor=2)
        view = phone.new_page()
        view.goto(site.url(STATISTICS))
        view.screenshot(path=out / "statistics-phone.png")
        stranger = browser.new_context(viewport=WIDE).new_page()
        stranger.goto(site.url(shared + "?when=30d"))
        stranger.screenshot(path=out / "statistics-shared.png", full_page=True)
        browser.close()
    print(f"Screenshots written to {out}")


def _person(version: str) -> str:
    # Headless Chromium says so in its user agent and is counted as a bot.
    return (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{version} Safari/537.36"
    )


if __name__ == "__main__":
    main()
