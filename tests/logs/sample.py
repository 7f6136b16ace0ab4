"""Access-log lines for the import's tests, as nginx and Apache write them."""

from __future__ import annotations

import gzip
from collections.abc import Iterable
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
