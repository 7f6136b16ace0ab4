"""Secrets the tests send, and what the privacy audit found after them.

Every test that sends a beacon can send these; the audit (run last) checks
that none of them was ever stored.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from typing import Any

COOKIE_VALUE = "audit-cookie-5f1e2d"
AUTHORIZATION_VALUE = "audit-authorization-9c2d7e"
CSRF_TOKEN = "auditcsrf0b3a6c1d8e2f4a5b6c7d8e9f0a1b2"
# Documentation ranges (RFC 5737, RFC 3849) and loopback: no real person.
CLIENT_ADDRESSES = ("127.0.0.1", "203.0.113.41", "198.51.100.7", "2001:db8::41")
SECRETS = (COOKIE_VALUE, AUTHORIZATION_VALUE, CSRF_TOKEN, *CLIENT_ADDRESSES)

# Request headers (as sent on the wire) carrying every secret above.
SECRET_HEADERS = {
    "Cookie": f"sessionid={COOKIE_VALUE}; csrftoken={CSRF_TOKEN}",
    "Authorization": f"Bearer {AUTHORIZATION_VALUE}",
    "Proxy-Authorization": f"Basic {AUTHORIZATION_VALUE}",
    "X-CSRFToken": CSRF_TOKEN,
    "X-XSRF-Token": CSRF_TOKEN,
    "X-Forwarded-For": f"{CLIENT_ADDRESSES[1]}, {CLIENT_ADDRESSES[2]}",
    "X-Real-IP": CLIENT_ADDRESSES[1],
    "Forwarded": f'for="[{CLIENT_ADDRESSES[3]}]"',
    "CF-Connecting-IP": CLIENT_ADDRESSES[2],
}


def secret_meta() -> dict[str, str]:
    """SECRET_HEADERS as WSGI environ keys, for the test client."""
    return {
        "HTTP_" + name.upper().replace("-", "_"): value for name, value in SECRET_HEADERS.items()
    }


@dataclasses.dataclass
class Audit:
    rows: int = 0
    sources: set[str] = dataclasses.field(default_factory=set)
    matches: list[tuple[str, str]] = dataclasses.field(default_factory=list)


audit = Audit()


def secrets_in(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def scan_rows(source: str, rows: Iterable[Mapping[str, Any]]) -> None:
    """Record every secret found in any column of ``rows``."""
    for row in rows:
        text = json.dumps({key: str(value) for key, value in row.items()}, ensure_ascii=False)
        # Header values are also scanned as stored (json text in json text).
        audit.matches.extend((source, secret) for secret in secrets_in(text))
        audit.rows += 1
    audit.sources.add(source)
