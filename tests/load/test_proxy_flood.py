"""Behind a reverse proxy one client must not silence the counter (issue 11, finding 5).

gunicorn on loopback stands behind a "proxy" at 127.0.0.1: every request comes
from that address and names its client in X-Forwarded-For, as nginx does.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import server

pytestmark = pytest.mark.load

LIMIT = 20


@pytest.fixture
def database() -> Iterator[str]:
    with server.scratch_database("lambdactr_proxy") as url:
        yield url


@pytest.fixture
def spool_dir() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="lambdactr-proxy-spool-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def beacon(gunicorn: server.Gunicorn, client: str, path: str) -> None:
    status, _ = server.get(
        gunicorn.url + "/ctr/s.css",
        headers={"Referer": f"https://blog.example{path}", "X-Forwarded-For": client},
    )
    assert status == 200


@pytest.mark.parametrize("trusted", ["127.0.0.1", ""], ids=["trusted-proxy", "no-proxy-trusted"])
def test_a_flood_through_the_proxy_costs_only_the_flooder(
    database: str, spool_dir: Path, trusted: str
) -> None:
    env = server.server_env(database, spool_dir, LAMBDACTR_RATE_LIMIT=str(LIMIT))
    env["LAMBDACTR_TRUSTED_PROXIES"] = trusted
    migrated = server.manage(env, "migrate", "--verbosity", "0")
    assert migrated.returncode == 0, migrated.stderr
    # One worker, one cache: the count is exact.
    with server.Gunicorn(env, workers=1) as gunicorn:
        for _ in range(LIMIT * 3):
            beacon(gunicorn, "198.51.100.66", "/flood/")
        for n in range(5):
            beacon(gunicorn, f"198.51.100.{n + 1}", "/real/")
        log = gunicorn.log_text()

    rows = server.stored_rows(database)
    real = sum(1 for row in rows if row["path"] == "/real/")
    flood = sum(1 for row in rows if row["path"] == "/flood/")
    print(f"\ntrusted={trusted!r}: flood {flood} stored of {LIMIT * 3}, real visitors {real} of 5")
    assert flood == LIMIT
    assert "198.51.100." not in repr(rows)
    if trusted:
        assert real == 5
    else:
        # The safe default: one address for everybody, and the log says why.
        assert real == 0
        assert "LAMBDACTR_TRUSTED_PROXIES is empty" in log
