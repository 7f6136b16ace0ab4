"""What a test client cannot send, sent as raw bytes to gunicorn over loopback.

Each case pins the status gunicorn or Django answers with (the README's table
of the server's own limits comes from here); none may be a 5xx.
"""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import server, traffic

pytestmark = pytest.mark.load

HOST = b"Host: counter.example\r\n"
REFERER = b"Referer: https://blog.example/raw/\r\n"


def request(line: bytes, *headers: bytes) -> bytes:
    return line + b"\r\n" + b"".join(headers) + b"Connection: close\r\n\r\n"


GET = b"GET /ctr/s.css HTTP/1.1"
# The server closed the connection without a word.
NO_ANSWER = 0
CASES: list[tuple[str, bytes, int]] = [
    ("plain", request(GET, HOST, REFERER), 200),
    ("non-UTF-8 header value", request(GET, HOST, REFERER, b"User-Agent: \xff\xfe\xc3(\r\n"), 200),
    (
        "non-UTF-8 query, escaped",
        request(b"GET /ctr/s.css?t=%FF%FE%C3( HTTP/1.1", HOST, REFERER),
        200,
    ),
    ("non-UTF-8 query, raw", request(b"GET /ctr/s.css?t=\xff\xfe HTTP/1.1", HOST, REFERER), 400),
    ("non-UTF-8 path, raw", request(b"GET /ctr/s.css\xff HTTP/1.1", HOST), 400),
    ("non-UTF-8 path, escaped", request(b"GET /ctr/s.css%FF HTTP/1.1", HOST), 404),
    ("NUL in header value", request(GET, HOST, b"User-Agent: a\x00b\r\n"), 400),
    ("NUL in query", request(b"GET /ctr/s.css?t=a%00b HTTP/1.1", HOST, REFERER), 200),
    ("raw NUL in query", request(b"GET /ctr/s.css?t=a\x00b HTTP/1.1", HOST, REFERER), 400),
    ("malformed percent-encoding", request(b"GET /ctr/s.css?%ZZ=%E0%A4%A HTTP/1.1", HOST), 200),
    ("malformed escape in path", request(b"GET /ctr/s.%ZZcss HTTP/1.1", HOST), 404),
    ("4 kB request line", request(b"GET /ctr/s.css?" + b"a" * 4000 + b" HTTP/1.1", HOST), 200),
    ("10 kB path", request(b"GET /" + b"p" * 10_000 + b" HTTP/1.1", HOST), 414),
    (
        "8 kB referrer",
        request(GET, HOST, b"Referer: https://b.example/" + b"r" * 8000 + b"\r\n"),
        200,
    ),
    (
        "64 kB referrer",
        request(GET, HOST, b"Referer: https://b.example/" + b"r" * 65_536 + b"\r\n"),
        431,
    ),
    (
        "1,001 query parameters",
        request(b"GET /ctr/s.css?" + b"&".join(b"p" for _ in range(1001)) + b" HTTP/1.1", HOST),
        200,
    ),
    ("98 headers", request(GET, HOST, *(b"X-H%d: v\r\n" % n for n in range(97))), 200),
    ("100 headers", request(GET, HOST, *(b"X-H%d: v\r\n" % n for n in range(100))), 431),
    ("missing Host (HTTP/1.0)", b"GET /ctr/s.css HTTP/1.0\r\n\r\n", 200),
    ("missing Host (HTTP/1.1)", request(GET), 200),
    ("absurd Host", request(GET, b"Host: " + b"h" * 300 + b"\r\n"), 400),
    ("Host with a path", request(GET, b"Host: counter.example/evil\r\n"), 400),
    ("two Hosts", request(GET, HOST, b"Host: evil.example\r\n"), 400),
    ("lower-case method", request(b"get /ctr/s.css HTTP/1.1", HOST), 400),
    ("unknown method", request(b"BREW /ctr/s.css HTTP/1.1", HOST), 405),
    ("POST", request(b"POST /ctr/s.css HTTP/1.1", HOST, b"Content-Length: 0\r\n"), 405),
    ("PUT", request(b"PUT /ctr/s.css HTTP/1.1", HOST, b"Content-Length: 0\r\n"), 405),
    ("DELETE", request(b"DELETE /ctr/s.css HTTP/1.1", HOST), 405),
    ("PATCH", request(b"PATCH /ctr/s.css HTTP/1.1", HOST, b"Content-Length: 0\r\n"), 405),
    ("OPTIONS", request(b"OPTIONS /ctr/s.css HTTP/1.1", HOST), 405),
    ("TRACE", request(b"TRACE /ctr/s.css HTTP/1.1", HOST), 405),
    ("CONNECT", request(b"CONNECT counter.example:443 HTTP/1.1", HOST), 404),
    ("HEAD", request(b"HEAD /ctr/s.css HTTP/1.1", HOST), 200),
    ("HTTP/0.9", b"GET /ctr/s.css\r\n\r\n", 400),
    ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400),
    ("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64, NO_ANSWER),
    ("header without colon", request(GET, HOST, b"Nonsense\r\n"), 400),
    ("obsolete line folding", request(GET, HOST, b"X-A: a\r\n  folded\r\n"), 400),
    ("bad Content-Length", request(GET, HOST, b"Content-Length: -1\r\n"), 400),
    (
        "forged signature",
        request(b"GET /ctr/s.css?t=WyJhIl0:1abc:forged HTTP/1.1", HOST, REFERER),
        200,
    ),
    (
        "every secret header",
        request(
            GET,
            HOST,
            REFERER,
            *(f"{k}: {v}\r\n".encode() for k, v in traffic.SECRET_HEADERS.items()),
        ),
        200,
    ),
]


def send(port: int, data: bytes) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    if not answer:
        return NO_ANSWER
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1."), answer[:200]
    return int(status_line.split()[1])


@pytest.fixture(scope="module")
def gunicorn() -> Iterator[tuple[server.Gunicorn, str]]:
    with server.scratch_database("lambdactr_raw") as url:
        env = server.server_env(url, Path(tempfile.mkdtemp(prefix="lambdactr-raw-spool-")))
        migrated = server.manage(env, "migrate", "--verbosity", "0")
        assert migrated.returncode == 0, migrated.stderr
        with server.Gunicorn(env, workers=2) as running:
            yield running, url
        traffic.scan_rows("raw request rows", server.stored_rows(url))


@pytest.mark.parametrize(("case", "data", "expected"), CASES, ids=[c[0] for c in CASES])
def test_raw_request_gets_its_status_and_never_a_5xx(
    gunicorn: tuple[server.Gunicorn, str], case: str, data: bytes, expected: int
) -> None:
    running, _ = gunicorn
    status = send(running.port, data)

    assert status < 500
    assert status == expected


def test_what_was_stored_stays_bounded(gunicorn: tuple[server.Gunicorn, str]) -> None:
    running, url = gunicorn
    send(running.port, request(GET, HOST, b"Referer: https://b.example/" + b"r" * 8000 + b"\r\n"))
    rows = server.stored_rows(url)

    assert rows
    for row in rows:
        assert len(str(row["referrer"])) <= 2000
        assert len(str(row["path"])) <= 2000
        assert all(len(value) <= 1024 for value in row["headers"].values())  # type: ignore[union-attr]
    assert "Internal Server Error" not in running.log_text()
