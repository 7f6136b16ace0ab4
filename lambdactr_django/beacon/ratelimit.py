"""Per-client flood control for the beacon, kept in Django's cache only."""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.core.cache import caches
from django.http import HttpRequest
from django.utils.crypto import salted_hmac
from ipware import get_client_ip

from lambdactr_django.beacon.lightrequest import BeaconRequest
from lambdactr_django.conf import conf
from lambdactr_django.eventcount import EventCount

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
_KEY_PREFIX = "lambdactr:rate"

refused = EventCount("lambdactr: rate limit refused %d hits (%d since start)")


def allow(request: BeaconRequest) -> bool:
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


def client_key(request: BeaconRequest) -> str:
    # Keyed by a hash salted with SECRET_KEY and the day: the cache never holds
    # an address, and yesterday's keys cannot be linked to today's.
    address = client_address(request)
    day = dt.datetime.now(dt.UTC).date().isoformat()
    return salted_hmac(
        f"lambdactr_django.ratelimit.{day}", address, algorithm="sha256"
    ).hexdigest()[:32]


def referrer_link_counts(token: str) -> bool:
    """False once a signed link naming an external referrer has counted
    ``LAMBDACTR_REFERRER_TOKEN_USES`` times: one visitor's link, replayed by a
    script, must not make its referrer the top one."""
    key = "{}:link:{}".format(
        _KEY_PREFIX,
        salted_hmac("lambdactr_django.ratelimit.link", token, algorithm="sha256").hexdigest()[:32],
    )
    try:
        cache = caches[conf.RATE_LIMIT_CACHE]
        # Kept as long as the token is valid, no longer.
        if cache.add(key, 1, timeout=conf.REFERRER_TOKEN_MAX_AGE):
            return True
        return cache.incr(key) <= conf.REFERRER_TOKEN_USES
    except Exception:
        logger.exception("lambdactr: rate limit cache failed; link counted")
        return True


def client_address(request: BeaconRequest) -> str:
    """The client's address for the rate limit only, never stored: REMOTE_ADDR,
    or behind the proxies of LAMBDACTR_TRUSTED_PROXIES the one they forwarded."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    proxies = conf.TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if not proxies:
        if forwarded:
            _warn_untrusted_forwarding()
        return remote
    if not forwarded:
        return remote
    # The chain as it reached Django: what the proxies forwarded, then the
    # proxy Django sees. ipware checks its last hops against the trusted
    # proxies, in order, and takes the hop before them; addresses a client put
    # in front of the chain are never reached.
    chain = HttpRequest()
    chain.META = {"HTTP_X_FORWARDED_FOR": f"{forwarded}, {remote}"}
    try:
        ip, _ = get_client_ip(
            chain,
            proxy_trusted_ips=list(proxies),
            request_header_order=["HTTP_X_FORWARDED_FOR"],
            strict=False,
            algorithm="modern",
        )
    except ValueError:
        # A malformed setting (lambdactr_django.E304 says so): no proxy trusted.
        return remote
    return str(ip) if ip is not None else remote


_warned = False


def _warn_untrusted_forwarding() -> None:
    global _warned
    if _warned:
        return
    _warned = True
    logger.warning(
        "lambdactr: requests carry X-Forwarded-For but LAMBDACTR_TRUSTED_PROXIES is "
        "empty: the rate limit counts every client behind a proxy as one. Set it to "
        "the proxies' addresses if Django runs behind them."
    )


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
