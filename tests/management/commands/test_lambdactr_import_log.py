from __future__ import annotations

import datetime as dt
import gzip
import io
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from lambdactr_django import store
from lambdactr_django.hits import MAX_PATH_LENGTH, BotReason, Resource
from lambdactr_django.models import HeaderHit
from tests.hits import CHROME, GOOGLEBOT
from tests.logs.sample import ADDRESS, combined, common, write
from tests.traffic import CLIENT_ADDRESSES

pytestmark = pytest.mark.django_db


def _run(*args: str, stdin: io.BytesIO | None = None) -> str:
    out = io.StringIO()
    call_command("lambdactr_import_log", *args, stdout=out, stdin=stdin)
    return out.getvalue()


def _paths() -> list[str]:
    return sorted(HeaderHit.objects.values_list("path", flat=True))


def test_keeps_page_views_and_counts_every_reason_to_skip(tmp_path: Path) -> None:
    log = write(
        tmp_path / "access.log",
        [
            combined("/"),
            combined("/blog/post/?utm_source=x#top"),
            combined("/about.html"),
            combined("/static/site.css"),
            combined("/img/logo.PNG"),
            combined("/fonts/a.woff2"),
            combined("/feed/"),
            combined("/robots.txt"),
            combined("/.well-known/acme-challenge/x"),
            combined("/ctr/s.css?t=abc"),
            combined("/ctr/d.css"),
            combined("/old/", status=301),
            combined("/missing/", status=404),
            combined("/broken/", status=502),
            combined("/form/", method="POST"),
            combined("/", method="HEAD"),
            "this is not a log line",
            combined("/admin/login/"),
            combined("/upgrade/", status=101),
            combined("blog.example:443"),
        ],
    )
    out = _run(str(log), "--site", "blog.example", "--exclude", "/admin/")

    assert _paths() == ["/", "/about.html", "/blog/post/"]
    assert "Read 20 lines" in out
    assert "3 page views, 3 new, 0 stored before" in out
    for reason, count in (
        ("not in the format", 1),
        ("not a GET", 2),
        ("redirect (3xx)", 1),
        ("client error (4xx)", 1),
        ("server error (5xx)", 1),
        ("the counter's own URLs", 2),
        ("excluded path (--exclude)", 1),
        ("not a page (by extension)", 6),
        ("other status (1xx, …)", 1),
        ("no page in the request", 1),
    ):
        assert any(line.split() == [*reason.split(), str(count)] for line in out.splitlines()), (
            reason,
            out,
        )
    hit = HeaderHit.objects.get(path="/")
    assert (hit.resource, hit.verified, hit.kind, hit.site) == (
        Resource.LOG,
        False,
        "view",
        "blog.example",
    )


def test_keeps_the_logs_times_in_utc(tmp_path: Path) -> None:
    log = write(
        tmp_path / "access.log",
        [
            combined("/a/", when="01/Nov/2026:10:00:00 +0100"),
            combined("/b/", when="31/Oct/2026:23:30:15 -0700"),
            combined("/c/", when="01/Nov/2026:05:30:00 +0530"),
        ],
    )
    _run(str(log), "--site", "blog.example")

    times = dict(HeaderHit.objects.values_list("path", "created_at"))
    assert times == {
        "/a/": dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC),
        "/b/": dt.datetime(2026, 11, 1, 6, 30, 15, tzinfo=dt.UTC),
        "/c/": dt.datetime(2026, 11, 1, 0, 0, tzinfo=dt.UTC),
    }


def test_iso8601_and_msec_times(tmp_path: Path) -> None:
    log = write(
        tmp_path / "access.log",
        [
            '203.0.113.41 [2026-11-01T10:00:00+01:00] "GET /iso/ HTTP/1.1" 200',
            '203.0.113.41 [1793523600.250] "GET /msec/ HTTP/1.1" 200',
        ],
    )
    _run(
        str(log),
        "--site",
        "blog.example",
        "--format",
        '$remote_addr [$time_iso8601] "$request" $status',
    )
    _run(str(log), "--site", "blog.example", "--format", '$remote_addr [$msec] "$request" $status')

    times = dict(HeaderHit.objects.values_list("path", "created_at"))
    assert times == {
        "/iso/": dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC),
        "/msec/": dt.datetime(2026, 11, 1, 9, 0, 0, 250000, tzinfo=dt.UTC),
    }


def test_common_format_has_no_user_agent_and_labels_no_bot(tmp_path: Path) -> None:
    log = write(tmp_path / "access.log", [common("/"), common("/x.js")])
    out = _run(str(log), "--format", "common", "--site", "blog.example")

    hit = HeaderHit.objects.get()
    assert (hit.path, hit.user_agent, hit.headers, hit.is_bot) == ("/", "", {}, False)
    assert "1 page views" in out


def test_bots_by_the_beacons_rules_and_no_header_rule_for_logs(tmp_path: Path) -> None:
    log = write(
        tmp_path / "access.log",
        [
            combined("/person/", user_agent=CHROME),
            combined("/crawler/", user_agent=GOOGLEBOT),
            combined("/nobody/", user_agent="-"),
        ],
    )
    _run(str(log), "--site", "blog.example")

    labels = {
        hit.path: (hit.is_bot, hit.bot_reason, hit.browser, hit.device)
        for hit in HeaderHit.objects.all()
    }
    assert labels == {
        # No Accept-Language and no Sec-Fetch-Dest in a log: no rule of them.
        "/person/": (False, "", "Chrome", "desktop"),
        "/crawler/": (True, BotReason.CRAWLER, "Googlebot", "bot"),
        "/nobody/": (True, BotReason.NO_USER_AGENT, "", "other"),
    }
    # lambdactr_reclassify applies the same rules to them later.
    call_command("lambdactr_reclassify", stdout=io.StringIO())
    assert {hit.path: (hit.is_bot, hit.bot_reason) for hit in HeaderHit.objects.all()} == {
        path: value[:2] for path, value in labels.items()
    }


def test_referrers_as_the_beacon_keeps_them(tmp_path: Path) -> None:
    log = write(
        tmp_path / "access.log",
        [
            combined("/ext/", referer="https://user:pw@news.example/item?id=1&utm_source=n#c"),
            combined("/int/", referer="https://blog.example/ext/"),
            combined("/none/"),
        ],
    )
    _run(str(log), "--site", "blog.example")

    referrers = {hit.path: (hit.referrer, hit.referrer_host) for hit in HeaderHit.objects.all()}
    assert referrers == {
        "/ext/": ("https://news.example/item?utm_source=n", "news.example"),
        "/int/": ("", ""),
        "/none/": ("", ""),
    }


def test_paths_decoded_without_query_and_bounded(tmp_path: Path) -> None:
    long = "/" + "a" * (MAX_PATH_LENGTH + 500)
    log = write(
        tmp_path / "access.log",
        [combined("/%C3%BCber/?q=secret"), combined(long), combined("http://blog.example/abs/")],
    )
    _run(str(log), "--site", "blog.example")

    paths = _paths()
    assert "/über/" in paths
    assert "/abs/" in paths
    assert max(len(path) for path in paths) == MAX_PATH_LENGTH
    assert not HeaderHit.objects.filter(path__contains="secret").exists()


def test_site_from_the_vhost_or_overridden(tmp_path: Path) -> None:
    log = write(
        tmp_path / "access.log",
        [
            "blog.example:443 " + combined("/a/"),
            "shop.example:443 " + combined("/b/"),
            ":443 " + combined("/c/"),
        ],
    )
    out = _run(str(log), "--format", "vhost_combined")
    assert dict(HeaderHit.objects.values_list("path", "site")) == {
        "/a/": "blog.example",
        "/b/": "shop.example",
    }
    assert "no site (empty vhost)" in out

    HeaderHit.objects.all().delete()
    _run(str(log), "--format", "vhost_combined", "--site", "Blog.Example")
    assert set(HeaderHit.objects.values_list("site", flat=True)) == {"blog.example"}


def test_content_type_decides_where_the_format_has_it(tmp_path: Path) -> None:
    pattern = '$remote_addr - [$time_local] "$request" $status "$sent_http_content_type"'
    log = write(
        tmp_path / "access.log",
        [
            f'{ADDRESS} - [01/Nov/2026:10:00:00 +0100] "GET /page.css HTTP/1.1" 200 '
            '"text/html; charset=utf-8"',
            f'{ADDRESS} - [01/Nov/2026:10:00:00 +0100] "GET /api/ HTTP/1.1" 200 "application/json"',
            f'{ADDRESS} - [01/Nov/2026:10:00:00 +0100] "GET /x/ HTTP/1.1" 200 "-"',
        ],
    )
    out = _run(str(log), "--format", pattern, "--site", "blog.example")

    assert _paths() == ["/page.css", "/x/"]
    assert "not HTML (by Content-Type)" in out


def test_gzip_by_its_magic_bytes_not_its_name(tmp_path: Path) -> None:
    rotated = write(tmp_path / "access.log.1", [combined("/gz/")], gzipped=True)
    named = write(tmp_path / "plain.gz", [combined("/plain/")])
    _run(str(rotated), str(named), "--site", "blog.example")

    assert _paths() == ["/gz/", "/plain/"]


def test_stdin_plain_and_gzipped() -> None:
    _run("-", "--site", "blog.example", stdin=io.BytesIO(combined("/in/").encode() + b"\n"))
    piped = gzip.compress(combined("/zin/").encode() + b"\n")
    _run("-", "--site", "blog.example", stdin=io.BytesIO(piped))

    assert _paths() == ["/in/", "/zin/"]


def test_importing_again_adds_nothing(tmp_path: Path) -> None:
    lines = [combined("/"), combined("/"), combined("/b/"), combined("/", address="198.51.100.7")]
    log = write(tmp_path / "access.log", lines)
    _run(str(log), "--site", "blog.example")
    # Identical lines are two people: each its own hit.
    assert HeaderHit.objects.count() == 4

    out = _run(str(log), "--site", "blog.example")
    assert HeaderHit.objects.count() == 4
    assert "4 page views, 0 new, 4 stored before" in out

    # The same log, gzipped by logrotate, and then grown by one line.
    write(tmp_path / "access.log.1.gz", lines, gzipped=True)
    _run(str(tmp_path / "access.log.1.gz"), "--site", "blog.example")
    write(tmp_path / "access.log", [*lines, combined("/new/")])
    out = _run(str(log), "--site", "blog.example")
    assert HeaderHit.objects.count() == 5
    assert "5 page views, 1 new, 4 stored before" in out


def test_another_site_is_another_hit(tmp_path: Path) -> None:
    log = write(tmp_path / "access.log", [combined("/")])
    _run(str(log), "--site", "blog.example")
    _run(str(log), "--site", "shop.example")
    assert HeaderHit.objects.count() == 2


def test_stores_no_client_address_anywhere(tmp_path: Path, stored_text: Callable[[], str]) -> None:
    pattern = (
        '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
        '"$http_referer" "$http_user_agent" "$http_x_forwarded_for"'
    )
    lines = [
        f'{address} - alice [01/Nov/2026:10:00:00 +0100] "GET /{n}/ HTTP/1.1" 200 1 '
        f'"https://news.example/from/" "{CHROME}" "{CLIENT_ADDRESSES[2]}, {address}"'
        for n, address in enumerate(CLIENT_ADDRESSES)
    ]
    log = write(tmp_path / "access.log", lines)
    _run(str(log), "--format", pattern, "--site", "blog.example")

    assert HeaderHit.objects.count() == len(CLIENT_ADDRESSES)
    text = stored_text()
    for address in CLIENT_ADDRESSES:
        assert address not in text
    assert "alice" not in text
    for hit in HeaderHit.objects.all():
        assert set(hit.headers) == {"User-Agent"}


def test_refuses_what_it_cannot_import(tmp_path: Path) -> None:
    log = write(tmp_path / "access.log", [combined("/")])
    with pytest.raises(CommandError, match="--site is required"):
        _run(str(log))
    with pytest.raises(CommandError, match="unknown format"):
        _run(str(log), "--site", "blog.example", "--format", "fancy")
    with pytest.raises(CommandError, match="no \\$status"):
        _run(str(log), "--site", "blog.example", "--format", '[$time_local] "$request"')
    with pytest.raises(CommandError, match="No such file"):
        _run(str(tmp_path / "nope.log"), "--site", "blog.example")
    assert HeaderHit.objects.count() == 0


def test_an_interrupted_import_keeps_its_batches_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [combined(f"/{n}/") for n in range(10)]
    log = write(tmp_path / "access.log", lines)
    real = store.save_dated
    calls = []

    def interrupted(hits: list[store.Dated]) -> int:
        calls.append(len(hits))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(hits)

    monkeypatch.setattr(store, "save_dated", interrupted)
    with pytest.raises(CommandError, match="4 new hits were stored and stay"):
        _run(str(log), "--site", "blog.example", "--batch-size", "2")
    assert HeaderHit.objects.count() == 4

    monkeypatch.setattr(store, "save_dated", real)
    out = _run(str(log), "--site", "blog.example", "--batch-size", "2")
    assert HeaderHit.objects.count() == 10
    assert "10 page views, 6 new, 4 stored before" in out


@override_settings(LAMBDACTR_BASE_URL="https://counter.example/sub")
def test_the_counters_urls_under_its_base_url(tmp_path: Path) -> None:
    log = write(tmp_path / "access.log", [combined("/sub/ctr/i.gif"), combined("/")])
    out = _run(str(log), "--site", "counter.example")
    assert _paths() == ["/"]
    assert "the counter's own URLs" in out


@override_settings(LAMBDACTR_TIME_ZONE="Europe/Berlin")
def test_before_the_day_the_counter_came(tmp_path: Path) -> None:
    log = write(
        tmp_path / "access.log",
        [
            # 23:59:59 and 00:00:00 in Berlin (UTC+01:00 in November).
            combined("/last/", when="01/Nov/2026:22:59:59 +0000"),
            combined("/first/", when="01/Nov/2026:23:00:00 +0000"),
        ],
    )
    out = _run(str(log), "--site", "blog.example", "--before", "2026-11-02")
    assert _paths() == ["/last/"]
    assert "at or after --before" in out


def test_a_real_pipe_on_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    # As `zcat access.log.2.gz | manage.py lambdactr_import_log -`: sys.stdin
    # over a pipe, which cannot seek, gzipped data peeked at, not read.
    read_end, write_end = os.pipe()
    data = gzip.compress("".join(combined(f"/{n}/") + "\n" for n in range(3)).encode())
    writer = threading.Thread(target=lambda: (os.write(write_end, data), os.close(write_end)))
    writer.start()
    with open(read_end, "rb") as pipe:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(pipe))
        out = io.StringIO()
        call_command("lambdactr_import_log", "-", "--site", "blog.example", stdout=out)
    writer.join()
    assert _paths() == ["/0/", "/1/", "/2/"]


def test_a_hit_is_bounded_as_the_beacons(tmp_path: Path) -> None:
    # A user agent of 1,000 emoji, as nginx escapes them: 12 bytes each in JSON,
    # twice (the column and the header), beyond one hit's 16 KiB.
    emoji = r"\xF0\x9F\x98\x80" * 1000
    log = write(tmp_path / "access.log", [combined("/", user_agent=emoji), combined("/short/")])
    _run(str(log), "--site", "blog.example")

    cut = HeaderHit.objects.get(path="/")
    assert cut.headers["Lambdactr-Truncated"].startswith("cut to 16384 bytes")
    assert cut.user_agent.startswith("😀")
    assert "Lambdactr-Truncated" not in HeaderHit.objects.get(path="/short/").headers


def test_a_landing_page_s_campaign_and_channel_as_the_beacon_reads_them(tmp_path: Path) -> None:
    log = write(
        tmp_path / "access.log",
        [
            combined("/news/?utm_source=Newsletter&utm_medium=email&utm_campaign=Dec"),
            combined("/", referer="https://www.google.com/search?q=x"),
            combined("/about/", referer="https://blog.example/"),
        ],
    )
    _run(str(log), "--site", "blog.example")

    stored = HeaderHit.objects.order_by("path").values_list(
        "path", "channel", "utm_source", "utm_medium", "utm_campaign"
    )
    assert list(stored) == [
        ("/", "search", "", "", ""),
        ("/about/", "", "", "", ""),
        ("/news/", "email", "newsletter", "email", "dec"),
    ]
