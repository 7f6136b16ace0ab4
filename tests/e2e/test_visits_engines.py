"""The visitor link's count in Firefox ESR and WebKitGTK (docs/visits.md): each engine
follows four pages (meta refresh, no driver needed) of a static site whose counter
links go through a little proxy that records what the browser sent."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from tests.e2e.servers import Route, static_page

pytestmark = pytest.mark.browser

PAGES = 4
MINIBROWSER = Path("/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser")
# Every wait is bounded: the pages refresh each half second.
DEADLINE = 30.0


def _site(little_server, example_site) -> str:
    base = little_server.url("", host="localhost")
    for beacon in ("s.css", "d.css"):
        little_server.routes[f"/ctr/{beacon}"] = Route(upstream=example_site.base_url)
    snippet = example_site.manage("lambdactr_snippet", "--base-url", base).strip()
    for number in range(1, PAGES + 1):
        after = f'<meta http-equiv="refresh" content="0.5;url=/p{number + 1}.html">'
        head = snippet + (after if number < PAGES else "")
        little_server.routes[f"/p{number}.html"] = Route(static_page(f"Page {number}", head))
    return f"{base}/p1.html"


@contextmanager
def _running(
    command: list[str], env: dict[str, str], pass_fds: tuple[int, ...] = ()
) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=pass_fds,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _browse(little_server, command: list[str], env: dict[str, str]) -> list:
    with _running(command, env):
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            answered = [s for s in little_server.requests_for("/ctr/d.css") if s.answered]
            if len(little_server.requests_for(f"/p{PAGES}.html")) and len(answered) >= PAGES:
                break
            time.sleep(0.1)
        time.sleep(0.5)
    return little_server.requests_for("/ctr/d.css")


def _record(artifacts: Path, engine: str, seen: list, statuses: list[int]) -> list:
    sent = []
    for request in seen:
        value = request.headers.get("If-Modified-Since")
        offset = None if value is None else int(parsedate_to_datetime(value).timestamp() % 86400)
        header_bytes = sum(len(f"{k}: {v}\r\n") for k, v in request.headers.items())
        sent.append({"if_modified_since_offset": offset, "request_header_bytes": header_bytes})
    loads = [{**one, "status": status} for one, status in zip(sent, statuses, strict=False)]
    (artifacts / f"visits-cost-{engine}.json").write_text(
        json.dumps({"engine": engine, "requests_per_page": len(seen) / PAGES, "loads": loads})
    )
    print(f"visitor link in {engine}: {loads}")
    return [one["if_modified_since_offset"] for one in sent]


def _daily(example_site, since: int) -> list[int]:
    return [status for path, status in example_site.served(since=since) if path == "/ctr/d.css"]


def _assert_counted(hits, offsets: list, statuses: list[int]) -> None:
    # example_project's TIME_ZONE is UTC: the offsets are seconds after midnight.
    assert offsets == [None, 1, 2, 2]
    assert statuses == [200, 200, 304, 304]
    [visitor] = hits.rows(kind="visitor")
    [second] = hits.rows(kind="second")
    assert (visitor["path"], second["path"]) == ("/p1.html", "/p2.html")
    assert len(hits.rows(kind="view")) == PAGES


def test_firefox_esr_tells_first_second_and_later_views(
    example_site, hits, little_server, tmp_path, artifacts
):
    firefox = shutil.which("firefox-esr")
    if firefox is None:
        pytest.skip("no firefox-esr")
    url = _site(little_server, example_site)
    since = len(example_site.log())
    profile = tmp_path / "profile"
    profile.mkdir()
    env = {**os.environ, "HOME": str(tmp_path), "MOZ_HEADLESS": "1"}
    command = [firefox, "--headless", "--no-remote", "--profile", str(profile), url]
    seen = _browse(little_server, command, env)
    statuses = _daily(example_site, since)
    _assert_counted(hits, _record(artifacts, "firefox-esr", seen, statuses), statuses)


def test_webkitgtk_tells_first_second_and_later_views(
    example_site, hits, little_server, tmp_path, artifacts
):
    xvfb = shutil.which("Xvfb")
    if xvfb is None or not MINIBROWSER.exists():
        pytest.skip("no WebKitGTK MiniBrowser or Xvfb")
    url = _site(little_server, example_site)
    since = len(example_site.log())
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    # Xvfb picks a free display and writes its number: other Xvfbs may be running.
    read_end, write_end = os.pipe()
    screen = [xvfb, "-displayfd", str(write_end), "-screen", "0", "1024x768x24", "-nolisten", "tcp"]
    with _running(screen, env, pass_fds=(write_end,)):
        os.close(write_end)
        with os.fdopen(read_end) as numbers:
            env["DISPLAY"] = ":" + numbers.readline().strip()
        seen = _browse(little_server, [str(MINIBROWSER), url], env)
    statuses = _daily(example_site, since)
    _assert_counted(hits, _record(artifacts, "webkitgtk", seen, statuses), statuses)
