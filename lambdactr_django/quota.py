"""Each known reader's share of requests a minute, counted in Django's cache: an
API token or staff session (lambdactr_django.api), or a shared dashboard's link
(admin/public.py), LAMBDACTR_API_RATE_LIMIT each.

Not the beacon's limit (beacon/ratelimit.py): that one counts anonymous clients
by a salted hash of their address and must never refuse on a broken cache; this
one counts a known reader, and answers 429 with the seconds to wait.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import caches

from lambdactr_django.conf import conf

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
_KEY_PREFIX = "lambdactr:api"  # kept: counts in a cache survive a deploy


def wait_seconds(who: str) -> int:
    """0 when ``who`` may ask now, else the seconds until its next minute starts."""
    limit = conf.API_RATE_LIMIT
    if limit is None:
        return 0
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    key = f"{_KEY_PREFIX}:{window}:{who}"
    try:
        cache = caches[conf.RATE_LIMIT_CACHE]
        # add() first so two workers starting a window do not reset each other.
        count = 1 if cache.add(key, 1, timeout=WINDOW_SECONDS * 2) else cache.incr(key)
    except Exception:
        # Reading statistics is harmless; a broken cache must not lock scripts out.
        logger.exception("lambdactr: the readers' rate limit cache failed; request let through")
        return 0
    if count <= limit:
        return 0
    return max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
