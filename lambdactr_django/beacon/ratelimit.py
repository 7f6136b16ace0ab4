"""Per-client flood control for the beacon, kept in Django's cache only."""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.core.cache import caches
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from lambdactr_django.conf import conf
from lambdactr_django.eventcount import EventCount

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
_KEY_PREFIX = "lambdactr:rate"

refused = EventCount("lambdactr: rate limit refused %d hits (%d since start)")


def allow(request: HttpRequest) -> bool:
    """False when this client has already sent its share of hits this minute."""
    limit = conf.RATE_LIMIT
    if limit is None:
        return True
    try:
        count = _count(client_key(request))
    except Exception:
        # A broken cache must not cost hits: without it there is no limit.
        logger.exception("lambdactr: rate limit cache failed; hit let through")
        return True
    if count <= limit:
        return True
    refused.add()
    return False


def client_key(request: HttpRequest) -> str:
    # Keyed by a hash salted with SECRET_KEY and the day: the cache never holds
    # an address, and yesterday's keys cannot be linked to today's.
    address = str(request.META.get("REMOTE_ADDR", ""))
    day = dt.datetime.now(dt.UTC).date().isoformat()
    return salted_hmac(
        f"lambdactr_django.ratelimit.{day}", address, algorithm="sha256"
    ).hexdigest()[:32]


def _count(client: str) -> int:
    cache = caches[conf.RATE_LIMIT_CACHE]
    window = int(time.time() // WINDOW_SECONDS)
    key = f"{_KEY_PREFIX}:{window}:{client}"
    try:
        return cache.incr(key)
    except ValueError:
        # First hit this window. add() so two workers racing here do not
        # reset each other's count.
        if cache.add(key, 1, timeout=WINDOW_SECONDS * 2):
            return 1
        return cache.incr(key)
