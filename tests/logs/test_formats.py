from __future__ import annotations

import datetime as dt

import pytest

from lambdactr_django.logs.formats import Format, FormatError, time_local, unescape
from tests.hits import CHROME
from tests.logs.sample import ADDRESS, combined


def test_combined_line() -> None:
    line = combined("/a/?b=1", referer="https://news.example/", user="alice")
    entry = Format("combined").parse(line)

    assert entry is not None
    assert (entry.method, entry.target, entry.status) == ("GET", "/a/?b=1", 200)
    assert (entry.referer, entry.user_agent, entry.host) == ("https://news.example/", CHROME, None)
    assert entry.created_at == dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
    # The address and the user name, found to be left out of everything.
    assert [line[start:end] for start, end in entry.dropped] == [ADDRESS, "-", "alice"]


def test_dashes_are_headers_not_sent() -> None:
    entry = Format("combined").parse(combined(user_agent="-"))
    assert entry is not None
    assert (entry.referer, entry.user_agent) == ("", "")


def test_escaped_quotes_of_both_servers() -> None:
    nginx = combined(user_agent=r"Evil \x22quoted\x22 agent \xC3\xBC")
    apache = combined(user_agent=r"Evil \"quoted\" agent \\ done")
    parse = Format("combined").parse

    assert parse(nginx).user_agent == 'Evil "quoted" agent ü'  # type: ignore[union-attr]
    assert parse(apache).user_agent == 'Evil "quoted" agent \\ done'  # type: ignore[union-attr]
    assert unescape(r"bad \xff byte") == "bad \ufffd byte"


def test_fields_after_the_format_are_ignored() -> None:
    # Apache's combinedio appends the bytes received and sent.
    entry = Format("combined").parse(combined() + " 512 6000")
    assert entry is not None
    assert entry.user_agent == CHROME


def test_what_is_not_a_line_of_the_format() -> None:
    parse = Format("combined").parse
    assert parse("") is None
    assert parse("garbage") is None
    assert parse(combined(when="01/Foo/2026:10:00:00 +0100")) is None
    assert parse(combined(when="31/Feb/2026:10:00:00 +0100")) is None


def test_a_request_line_that_is_none() -> None:
    entry = Format("combined").parse(
        f'{ADDRESS} - - [01/Nov/2026:10:00:00 +0100] "\\x16\\x03\\x01" 400 0 "-" "-"'
    )
    assert entry is not None
    assert entry.target == ""


def test_separate_method_and_uri_and_the_host_before_a_colon() -> None:
    log_format = Format("$host:$server_port [$time_local] $request_method $request_uri $status")
    entry = log_format.parse("blog.example:443 [01/Nov/2026:10:00:00 +0100] GET /x/?y 200")
    assert entry is not None
    assert (entry.host, entry.method, entry.target, entry.status) == (
        "blog.example",
        "GET",
        "/x/?y",
        200,
    )
    assert log_format.has_host
    assert not log_format.has_user_agent


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ("fancy", "unknown format"),
        ('"$request" $status', "no time"),
        ('[$time_local] "$request"', r"no \$status"),
        ("[$time_local] $status", r"no \$request"),
        ("[$time_local] $request $status", "double quotes"),
    ],
)
def test_formats_refused(spec: str, error: str) -> None:
    with pytest.raises(FormatError, match=error):
        Format(spec)


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("01/Nov/2026:10:00:00 +0000", dt.datetime(2026, 11, 1, 10, 0)),
        ("01/Nov/2026:10:00:00 +0100", dt.datetime(2026, 11, 1, 9, 0)),
        ("01/Nov/2026:00:30:00 +0530", dt.datetime(2026, 10, 31, 19, 0)),
        ("31/Dec/2026:23:59:59 -1000", dt.datetime(2027, 1, 1, 9, 59, 59)),
        ("29/Mar/2026:02:30:00 +0200", dt.datetime(2026, 3, 29, 0, 30)),
    ],
)
def test_time_local_offsets(text: str, utc: dt.datetime) -> None:
    assert time_local(text) == utc.replace(tzinfo=dt.UTC)


def test_nginx_is_the_combined_format() -> None:
    # nginx's default log_format is Apache's combined, under either name.
    line = combined("/a/")
    assert Format("nginx").parse(line) == Format("combined").parse(line)
