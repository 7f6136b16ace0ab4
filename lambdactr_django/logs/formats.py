"""Access-log formats: a line of one into the few fields an imported hit needs.

A format is written as nginx writes a ``log_format``: text and ``$variables``.
The named formats are the defaults of nginx and Apache; a custom one is given
as its pattern, e.g. ``'$remote_addr - [$time_local] "$request" $status "$http_user_agent"'``.

Parsed by one regular expression per format rather than a log-parsing library:
apachelogs (the well-kept one on PyPI) read 21,000 combined lines a second here,
so a million-line log would spend 47 s in parsing alone, and it knows Apache's
``LogFormat`` but not nginx's ``log_format``. The expression is built from the
format and anchored at each field's delimiter, so it never backtracks far:

* a variable inside double quotes takes everything up to the closing quote;
  a quote within it is escaped by both servers (nginx writes ``\\x22``, Apache
  ``\\"``), so ``(?:[^"\\\\]|\\\\.)*`` can neither stop early nor run past it;
* any other variable takes what precedes the next character of the format,
  never a space (``$host:$server_port`` splits at the colon);
* ``$time_local`` is exactly nginx's and Apache's ``%t`` (10/Oct/2000:13:55:36 -0700).

A line only has to start with what the format describes: fields appended after
it (``combinedio``'s byte counts, say) are ignored.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import Final

COMMON: Final = (
    '$remote_addr $remote_logname $remote_user [$time_local] "$request" $status $body_bytes_sent'
)
COMBINED: Final = COMMON + ' "$http_referer" "$http_user_agent"'
# Apache's vhost_combined: %v:%p first.
VHOST_COMBINED: Final = "$server_name:$server_port " + COMBINED

NAMED: Final = {
    "combined": COMBINED,
    "common": COMMON,
    "vhost_combined": VHOST_COMBINED,
    # nginx's default format has Apache's name; both spellings are accepted.
    "nginx": COMBINED,
}

# Variable -> the field it fills. Every other variable is matched and ignored.
# The client's address and user name fill "dropped": matched, never kept, and
# left out of the line's key (logs/keys.py).
FIELDS: Final = {
    "remote_addr": "dropped",
    "realip_remote_addr": "dropped",
    "binary_remote_addr": "dropped",
    "http_x_forwarded_for": "dropped",
    "http_x_real_ip": "dropped",
    "proxy_add_x_forwarded_for": "dropped",
    "remote_user": "dropped",
    "remote_logname": "dropped",
    "time_local": "time_local",
    "time_iso8601": "time_iso8601",
    "msec": "msec",
    "request": "request",
    "request_method": "method",
    "request_uri": "target",
    "status": "status",
    "http_referer": "referer",
    "http_user_agent": "user_agent",
    "host": "host",
    "http_host": "host",
    "server_name": "host",
    "sent_http_content_type": "content_type",
}
_PATTERNS: Final = {
    "time_local": r"\d{1,2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}",
    "msec": r"\d+(?:\.\d+)?",
    "status": r"\d{3}",
}
_QUOTED: Final = r'(?:[^"\\]|\\.)*'
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
_MONTHS: Final = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_ESCAPE = re.compile(r"\\x([0-9A-Fa-f]{2})|\\(.)")


class FormatError(ValueError):
    """A format that cannot be read: say why."""


@dataclass(frozen=True, slots=True)
class Entry:
    """What an imported hit needs of one line, as the log wrote it (unescaped)."""

    created_at: dt.datetime
    method: str
    # The request target: "/path?query", an absolute URL from a proxy, or "" for
    # a request line that is none.
    target: str
    status: int
    referer: str | None
    user_agent: str | None
    host: str | None
    content_type: str | None
    # Where the client's address and user name were in the line: (start, end) pairs.
    dropped: tuple[tuple[int, int], ...]


class Format:
    """One format, compiled: ``parse(line)`` gives an ``Entry`` or None."""

    def __init__(self, spec: str) -> None:
        self.pattern = NAMED.get(spec, spec)
        if "$" not in self.pattern:
            names = ", ".join(sorted(NAMED))
            raise FormatError(f"unknown format {spec!r}: name one of {names}, or give a pattern")
        regex, self.groups = _compile(self.pattern)
        fields = set(self.groups.values())
        if not fields & {"time_local", "time_iso8601", "msec"}:
            raise FormatError("the format has no time ($time_local, $time_iso8601 or $msec)")
        if "status" not in fields:
            raise FormatError("the format has no $status")
        if "request" not in fields and not {"method", "target"} <= fields:
            raise FormatError("the format has no $request (or $request_method and $request_uri)")
        self.has_host = "host" in fields
        self.has_user_agent = "user_agent" in fields
        self._match = re.compile(regex).match
        # Each field's first group (0-based, as in ``groups()``); the groups of
        # the dropped fields, whose spans the keys leave out.
        self._first = {
            name: min(g for g, f in self.groups.items() if f == name) - 1 for name in fields
        }
        self._dropped = tuple(g for g, f in self.groups.items() if f == "dropped")

    def parse(self, line: str) -> Entry | None:
        """The fields of ``line``; None when it is not a line of this format."""
        found = self._match(line)
        if found is None:
            return None
        values = found.groups()
        first = self._first

        def field(name: str) -> str | None:
            index = first.get(name)
            if index is None:
                return None
            text = values[index]
            return unescape(text) if "\\" in text else text

        created_at = _time(field("time_local"), field("time_iso8601"), field("msec"))
        if created_at is None:
            return None
        request = field("request")
        if request is not None:
            method, _, rest = request.partition(" ")
            target = rest.rpartition(" ")[0] if " " in rest else rest
        else:
            method, target = field("method") or "", field("target") or ""
        return Entry(
            created_at=created_at,
            method=method,
            target=target,
            status=int(values[first["status"]]),
            referer=_present(field("referer")),
            user_agent=_present(field("user_agent")),
            host=_present(field("host")),
            content_type=_present(field("content_type")),
            dropped=tuple(found.span(group) for group in self._dropped),
        )


def _compile(pattern: str) -> tuple[str, dict[int, str]]:
    parts: list[str] = []
    groups: dict[int, str] = {}
    position = 0
    for found in _VARIABLE.finditer(pattern):
        before, after = pattern[position : found.start()], pattern[found.end() :]
        parts.append(re.escape(before))
        name = found.group(1) or found.group(2)
        if before.endswith('"') and after.startswith('"'):
            regex = _QUOTED
        elif name in _PATTERNS:
            regex = _PATTERNS[name]
        elif name == "request":
            raise FormatError("$request must be in double quotes, as the servers write it")
        else:
            stop = after[:1] if after[:1] not in ("", " ") else ""
            regex = rf"[^\s{re.escape(stop)}]*"
        groups[len(groups) + 1] = FIELDS.get(name, "")
        parts.append(f"({regex})")
        position = found.end()
    parts.append(re.escape(pattern[position:]))
    return "".join(parts), groups


def unescape(text: str) -> str:
    """A field as the client sent it: nginx's ``\\xHH`` and Apache's ``\\"`` undone."""
    if "\\" not in text:
        return text
    raw = bytearray()
    position = 0
    for found in _ESCAPE.finditer(text):
        raw += text[position : found.start()].encode("utf-8", "surrogateescape")
        if found.group(1) is not None:
            raw.append(int(found.group(1), 16))
        else:
            raw += found.group(2).encode("utf-8", "surrogateescape")
        position = found.end()
    raw += text[position:].encode("utf-8", "surrogateescape")
    return raw.decode("utf-8", errors="replace")


def _present(text: str | None) -> str | None:
    # The servers write "-" for a header that was not sent.
    return None if text is None else ("" if text == "-" else text)


def _time(local: str | None, iso: str | None, msec: str | None) -> dt.datetime | None:
    try:
        if local is not None:
            return time_local(local)
        if iso is not None:
            parsed = dt.datetime.fromisoformat(iso)
            return parsed.astimezone(dt.UTC) if parsed.tzinfo is not None else None
        if msec is not None:
            return dt.datetime.fromtimestamp(float(msec), dt.UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


@functools.lru_cache(maxsize=4096)
def time_local(text: str) -> dt.datetime:
    """``10/Oct/2000:13:55:36 -0700`` as an instant in UTC; ValueError if it is none."""
    # Cached: a busy log's lines share their seconds. By hand: strptime's %b
    # follows the locale, and it is ten times slower.
    date, clock_and_zone = text.split(":", 1)
    day, month, year = date.split("/")
    clock, zone = clock_and_zone.split(" ")
    hour, minute, second = clock.split(":")
    if month not in _MONTHS:
        raise ValueError(f"no month {month!r}")
    minutes = int(zone[1:3]) * 60 + int(zone[3:5])
    offset = dt.timedelta(minutes=-minutes if zone[0] == "-" else minutes)
    moment = dt.datetime(
        int(year),
        _MONTHS[month],
        int(day),
        int(hour),
        int(minute),
        int(second),
        tzinfo=dt.timezone(offset),
    )
    return moment.astimezone(dt.UTC)
