"""A replayed page link against real gunicorn (issue 11, finding 4): the link a page
signs for a referrer expires, counts a bounded number of times, and the page says
``Vary: Referer``; a plain beacon naming another site is not counted."""

from __future__ import annotations

import html
import re
import shutil
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import server

pytestmark = pytest.mark.load

REPLAYS = 200
WORKERS = 2
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0", "Accept-Language": "en"}


@pytest.fixture
def database() -> Iterator[str]:
    with server.scratch_database("lambdactr_farming") as url:
        yield url


@pytest.fixture
def spool_dir() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="lambdactr-farming-spool-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def test_a_minted_referrer_link_cannot_make_the_top_referrer(
    database: str, spool_dir: Path
) -> None:
    env = server.server_env(database, spool_dir, LAMBDACTR_RATE_LIMIT="0")
    assert server.manage(env, "migrate", "--verbosity", "0").returncode == 0
    with server.Gunicorn(env, workers=WORKERS) as gunicorn:
        request = urllib.request.Request(
            gunicorn.url + "/page/",
            headers={
                "Host": server.HOST,
                "Referer": "https://spam.example/casino?utm_source=FREE",
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            page = response.read().decode()
            vary = response.headers.get("Vary", "")
        [link] = re.findall(r'href="(/ctr/s\.css\?t=[^"]+)"', page)
        for _ in range(REPLAYS):
            status, _ = server.get(gunicorn.url + html.unescape(link), headers=BROWSER)
            assert status == 200
        # No token: a plain beacon naming a competitor's page.
        for _ in range(10):
            server.get(
                gunicorn.url + "/ctr/s.css",
                headers={**BROWSER, "Referer": "https://competitor.example/"},
            )

    rows = server.stored_rows(database)
    spam = [row for row in rows if row["referrer_host"] == "spam.example"]
    verified_spam = sum(1 for row in spam if row["verified"])
    competitor = [row for row in rows if row["site"] == "competitor.example"]
    print(f"\n{REPLAYS} replays: {verified_spam} verified; Vary: {vary!r}")
    assert "Referer" in vary
    assert len(spam) == REPLAYS
    # The count is kept in LAMBDACTR_RATE_LIMIT_CACHE: here LocMemCache, one per
    # worker; a shared cache (Redis, Memcached) makes it 3 in all.
    assert 1 <= verified_spam <= 3 * WORKERS
    assert len(competitor) == 10
    assert not any(row["verified"] for row in competitor)
