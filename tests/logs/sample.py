"""Access-log lines for the import's tests, as nginx and Apache write them."""

from __future__ import annotations

import datetime as dt
import gzip
import random
from collections.abc import Iterable, Iterator
from pathlib import Path

from tests.hits import CHROME
from tests.traffic import CLIENT_ADDRESSES

# The client's address of every line: a documentation address the privacy audit
# (tests/traffic.py) looks for in every stored row.
ADDRESS = CLIENT_ADDRESSES[1]
WHEN = "01/Nov/2026:10:00:00 +0100"


def combined(
    path: str = "/",
    *,
    status: int = 200,
    method: str = "GET",
    when: str = WHEN,
    address: str = ADDRESS,
    user: str = "-",
    referer: str = "-",
    user_agent: str = CHROME,
    size: int = 5120,
) -> str:
    return (
        f'{address} - {user} [{when}] "{method} {path} HTTP/1.1" {status} {size} '
        f'"{referer}" "{user_agent}"'
    )


def common(path: str = "/", *, status: int = 200, when: str = WHEN) -> str:
    return f'{ADDRESS} - - [{when}] "GET {path} HTTP/1.1" {status} 5120'


def write(path: Path, lines: Iterable[str], *, gzipped: bool = False) -> Path:
    data = "".join(line + "\n" for line in lines).encode()
    path.write_bytes(gzip.compress(data) if gzipped else data)
    return path


_AGENTS = (
    CHROME,
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "curl/8.5.0",
    "-",
)
_ASSETS = ("/static/site.css", "/static/app.js", "/img/logo.png", "/favicon.ico", "/feed/")
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def generate(count: int, *, seed: int = 1, days: int = 30) -> Iterator[str]:
    """``count`` combined lines over ``days`` days from 1 October 2026 (UTC+01:00),
    as a busy site's log has them: about half page views, the rest assets, errors,
    redirects and POSTs, some bots. The same seed, the same lines."""
    rng = random.Random(seed)
    start = dt.datetime(2026, 10, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    step = days * 86400 / max(count, 1)
    for n in range(count):
        moment = start + dt.timedelta(seconds=int(n * step))
        when = f"{moment.day:02d}/{_MONTHS[moment.month - 1]}/{moment:%Y:%H:%M:%S} +0100"
        roll = rng.random()
        path, status, method = f"/posts/{rng.randrange(2000)}/", 200, "GET"
        if roll < 0.35:
            path = rng.choice(_ASSETS)
        elif roll < 0.40:
            status = 404
        elif roll < 0.43:
            status = 301
        elif roll < 0.45:
            method = "POST"
        referer = rng.choice(("-", "-", "https://www.google.com/", "https://blog.example/"))
        yield combined(
            path,
            status=status,
            method=method,
            when=when,
            address=f"198.51.100.{rng.randrange(256)}",
            referer=referer,
            user_agent=rng.choice(_AGENTS),
        )
