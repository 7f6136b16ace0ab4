"""The keys of imported hits: the same line of the same log makes the same key.

Each key is a UUIDv7 (uuid7.py) whose 48-bit time is the line's and whose 74
other bits are a keyed hash (HMAC-SHA256 with a key made from SECRET_KEY) of

* the site,
* the line without the client's address and user name (so the key says nothing
  of either, and cannot be brute-forced back to an address without the secret),
* and how many such lines came before it in the same file: two people who
  loaded the same page in the same second with the same browser leave two
  identical lines, and two hits.

Stored with ON CONFLICT DO NOTHING, a line imported again is skipped by its
key: importing a file twice, or a log again after it grew, adds only what is new.
The count of identical lines looks back ``WINDOW_SECONDS`` of the log's time
only, so memory stays bounded however long the file: identical lines share
their time, and a server writes a line within moments of that time.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from typing import Final

from django.utils.crypto import salted_hmac

from lambdactr_django.logs.formats import Entry
from lambdactr_django.uuid7 import uuid7_of

KEY_SALT: Final = "lambdactr_django.logs.keys"
WINDOW_SECONDS: Final = 300
# How often (in the log's seconds) the counts older than the window are dropped.
_SWEEP_SECONDS: Final = 60


def _secret() -> bytes:
    # The key of the keys: derived from SECRET_KEY under a salt of its own, as
    # Django derives each of its own keys.
    return salted_hmac(KEY_SALT, b"import keys", algorithm="sha256").digest()


class Keys:
    """The keys of one file's lines, in the file's order."""

    def __init__(self, site: str) -> None:
        self._base = hmac.new(_secret(), digestmod=hashlib.sha256)
        self._base.update(site.encode("utf-8", "surrogateescape") + b"\0")
        # Second of the log -> digest of a line -> how many were seen.
        self._seen: dict[int, dict[bytes, int]] = {}
        self._newest: int | None = None
        self._swept: int | None = None

    def key(self, line: str, entry: Entry) -> uuid.UUID:
        mac = self._base.copy()
        position = 0
        for start, end in entry.dropped:
            mac.update(line[position:start].encode("utf-8", "surrogateescape"))
            mac.update(b"\0")
            position = end
        mac.update(line[position:].encode("utf-8", "surrogateescape"))
        digest = mac.digest()[:16]
        milliseconds = int(entry.created_at.timestamp() * 1000)
        second = milliseconds // 1000
        seen = self._seen.setdefault(second, {})
        before = seen.get(digest, 0)
        seen[digest] = before + 1
        self._sweep(second)
        if before:
            digest = hashlib.sha256(digest + before.to_bytes(8, "big")).digest()
        return uuid7_of(milliseconds, int.from_bytes(digest[:10], "big"))

    def _sweep(self, second: int) -> None:
        if self._newest is not None and second <= self._newest:
            return
        self._newest = second
        if self._swept is not None and second - self._swept < _SWEEP_SECONDS:
            return
        self._swept = second
        oldest = second - WINDOW_SECONDS
        for stale in [s for s in self._seen if s < oldest]:
            del self._seen[stale]
