"""Turn an incoming beacon request into one hit: the only place a request becomes a Hit.

Pure functions over the request: no ORM, no I/O, so they are cheap to test.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.core.signals import setting_changed
from django.http.request import HttpHeaders, split_domain_port, validate_host

from lambdactr_django.beacon import bound, classify, sources
from lambdactr_django.beacon.clean import (
    clean_referrer,
    clean_text,
    page_from_url,
    referrer_host,
    repair_wsgi_string,
)
from lambdactr_django.beacon.country import country_of
from lambdactr_django.beacon.lightrequest import BeaconRequest
from lambdactr_django.beacon.signing import (
    SITE_PARAMETER,
    TOKEN_PARAMETER,
    read_site_token,
    read_token,
)
from lambdactr_django.conf import conf
from lambdactr_django.hits import MAX_USER_AGENT_LENGTH, Hit, Kind, Page, Resource

MAX_HEADER_NAME_LENGTH = 128

# Credentials and anti-forgery tokens: never stored, whatever the settings.
# And the counter's own note on a hit cut to size, which no client may forge.
NEVER_STORED = frozenset(
    {"cookie", "cookie2", "authorization", "proxy-authorization", bound.TRUNCATED_HEADER.lower()}
)
# Headers that carry the client's address; stored only when the site owner opts in.
CLIENT_ADDRESS_HEADERS = frozenset(
    {
        "forwarded",
        "forwarded-for",
        "x-forwarded",
        "x-forwarded-for",
        "x-original-forwarded-for",
        "x-real-ip",
        "x-client-ip",
        "x-cluster-client-ip",
        "x-remote-addr",
        "x-remote-ip",
        "x-originating-ip",
        "x-envoy-external-address",
        "x-appengine-user-ip",
        "client-ip",
        "cf-connecting-ip",
        "cf-connecting-ipv6",
        "cf-pseudo-ipv4",
        "true-client-ip",
        "fastly-client-ip",
        "akamai-client-ip",
    }
)
# Spelling used when an address is stored on opt-in; REMOTE_ADDR is not a header.
REMOTE_ADDR_KEY = "Remote-Addr"

# Headers whose values are kept: each known to carry no identifier and no
# secret. Every other header is kept by name only, its value WITHHELD, so the
# hit still tells what arrived. An allowlist, since a denylist can never keep up
# with what proxies add (addresses, login tokens, client certificates).
# LAMBDACTR_STORED_HEADERS adds names. Not If-None-Match: an ETag can be an identifier.
STORED_VALUES = frozenset(
    {
        "user-agent",
        "accept",
        "accept-charset",
        "accept-encoding",
        "accept-language",
        "referer",  # cleaned: no credentials, fragment or query outside the allowlist
        "dnt",
        "sec-gpc",
        "priority",
        "save-data",
        "purpose",
        "sec-purpose",
        "x-purpose",
        "x-moz",
        "cache-control",
        "pragma",
        "if-modified-since",
        "upgrade-insecure-requests",
        "connection",
        "te",
        "host",
        "content-type",
        "content-length",
        # Client hints of the device and network.
        "device-memory",
        "downlink",
        "dpr",
        "ect",
        "rtt",
        "viewport-width",
        "width",
    }
)
STORED_VALUE_PREFIXES = ("sec-ch-", "sec-fetch-")
WITHHELD = "(withheld)"

# They describe a request body. A beacon GET has none, yet some WSGI servers
# (wsgiref, so runserver) invent them; keep them only when a body was announced.
_BODY_HEADERS = frozenset({"Content-Type", "Content-Length"})
# Header-name words whose usual spelling is not Title-Case.
_ACRONYMS = {
    "Ch": "CH",
    "Cf": "CF",
    "Dnt": "DNT",
    "Gpc": "GPC",
    "Ip": "IP",
    "Ipv4": "IPv4",
    "Ipv6": "IPv6",
    "Te": "TE",
    "Ua": "UA",
    "Wap": "WAP",
}


def capture(
    request: BeaconRequest, kind: str = Kind.VIEW, resource: str = Resource.STYLESHEET
) -> Hit:
    """Everything the counter stores about one beacon request."""
    headers = stored_headers(request)
    if kind == Kind.VIEW:
        page, verified = _viewed_page(request, headers)
    else:
        page, verified = _visitor_page(request, headers)
    user_agent = headers.get("User-Agent", "")[:MAX_USER_AGENT_LENGTH]
    labels = labels_for(user_agent, headers, resource)
    host = referrer_host(page.referrer)
    # The landing page's tags, from the URL the beacon was loaded by (its query
    # string is not stored); a second view's page is no landing.
    campaign = sources.Campaign()
    if kind != Kind.SECOND_VIEW:
        campaign = sources.campaign_of(_page_url(request, headers, page.site))
    hit = Hit(
        site=page.site,
        path=page.path,
        referrer=page.referrer,
        user_agent=user_agent,
        verified=verified,
        headers=headers,
        kind=kind,
        resource=resource,
        referrer_host=host,
        browser=labels.browser,
        os=labels.os,
        device=labels.device,
        is_bot=labels.is_bot,
        bot_reason=labels.bot_reason,
        prefetch=labels.prefetch,
        dnt=labels.dnt,
        gpc=labels.gpc,
        channel=sources.channel_for(host, campaign) if kind == Kind.VIEW else "",
        utm_source=campaign.source,
        utm_medium=campaign.medium,
        utm_campaign=campaign.campaign,
        language=sources.language_of(headers.get("Accept-Language", "")),
        country=country_of(request),
    )
    return bound.fit(hit)


def labels_for(user_agent: str, headers: dict[str, str], resource: str) -> classify.Labels:
    """The labels of a hit from what is stored of it; capture and lambdactr_reclassify
    both use this, so a stored hit reclassifies to what capture would say today."""
    return classify.label(user_agent, headers, resource, _redacted())


def should_store(hit: Hit) -> bool:
    """False when the visitor asked not to be counted and the site honours it."""
    return not ((hit.dnt or hit.gpc) and conf.PRIVACY_SIGNALS == "honour")


# By site: a counter sees the same few all day. Bounded, and forgotten when a
# setting changes (LAMBDACTR_SITES, ALLOWED_HOSTS, DEBUG).
@functools.lru_cache(maxsize=256)
def is_own_site(site: str, *, signed: bool) -> bool:
    """True for a site in ``LAMBDACTR_SITES``, or by default (unsigned hits only)
    in ``ALLOWED_HOSTS``.

    A hit for a site that is not the project's (a forged Referer, a copied link)
    is kept unverified, out of the default statistics. A signed hit's site
    passed ALLOWED_HOSTS where its link was rendered, perhaps another
    deployment (LAMBDACTR_BASE_URL): only an explicit LAMBDACTR_SITES overrules it.
    """
    allowed = conf.SITES
    if allowed is None and signed:
        return True
    if allowed is None:
        allowed = settings.ALLOWED_HOSTS
        if settings.DEBUG and not allowed:
            # What Django itself allows then.
            allowed = [".localhost", "127.0.0.1", "[::1]"]
    domain, _ = split_domain_port(site)
    return bool(domain) and validate_host(domain, list(allowed))


def _viewed_page(request: BeaconRequest, headers: dict[str, str]) -> tuple[Page, bool]:
    token = _token(request, TOKEN_PARAMETER)
    page = read_token(token) if token is not None else None
    if page is not None:
        return page, is_own_site(page.site, signed=True)
    # No (valid) token: the stylesheet request's Referer is the page itself.
    page = page_from_url(headers.get("Referer", ""))
    return page, _unsigned_counts(token, page.site)


def _visitor_page(request: BeaconRequest, headers: dict[str, str]) -> tuple[Page, bool]:
    # A visitor-day (and a second view) belongs to a site; its path is the page
    # that loaded the visitor link, by its Referer: the visit's entry page.
    token = _token(request, SITE_PARAMETER)
    site = read_site_token(token) if token is not None else None
    loaded_by = page_from_url(headers.get("Referer", ""))
    if site is not None:
        path = loaded_by.path if loaded_by.site == site else ""
        return Page(site=site, path=path), is_own_site(site, signed=True)
    return Page(site=loaded_by.site, path=loaded_by.path), _unsigned_counts(token, loaded_by.site)


def _page_url(request: BeaconRequest, headers: dict[str, str], site: str) -> str:
    # The beacon's Referer as sent, before the stored copy's query allowlist:
    # only its utm_* values are read, only when it is the counted site's page,
    # and not at all when LAMBDACTR_REDACTED_HEADERS drops the Referer.
    if "Referer" not in headers:
        return ""
    referer = repair_wsgi_string(str(request.META.get("HTTP_REFERER", "")))
    if not site or page_from_url(referer).site != site:
        return ""
    return referer


def _unsigned_counts(token: str | None, site: str) -> bool:
    return token is None and not conf.REQUIRE_SIGNATURE and is_own_site(site, signed=False)


def stored_headers(request: BeaconRequest) -> dict[str, str]:
    """The request's headers under canonical names, after the privacy rules."""
    headers: dict[str, str] = {}
    meta = request.META
    store_address = conf.STORE_CLIENT_IP
    limit = conf.MAX_HEADERS
    max_length = conf.MAX_HEADER_LENGTH
    # META rather than request.headers: the same headers in the same order,
    # without building a second mapping of them on every request.
    for key, value in meta.items():
        rule = _rule(key)
        if rule is None:
            continue
        if rule.body and not meta.get("CONTENT_LENGTH"):
            continue
        if len(headers) >= limit:
            break
        action = rule.action
        if action == _DROP:
            continue
        if action == _WITHHOLD:
            headers[rule.canonical] = WITHHELD
            continue
        text = _cleaned_value(value, max_length)
        if action == _REFERER:
            text = clean_referrer(text)
        headers[rule.canonical] = text
    if store_address and len(headers) < limit:
        address = meta.get("REMOTE_ADDR", "")
        if address:
            headers[REMOTE_ADDR_KEY] = clean_text(address, max_length)
    return headers


def _cleaned_value(value: str, max_length: int) -> str:
    # Browsers send the same values (User-Agent, Accept, ...) on every hit.
    if len(value) > _CACHED_VALUE_LENGTH:
        return clean_text(repair_wsgi_string(value), max_length)
    return _cleaned_value_cached(value, max_length)


# Bounded in entries and, by the length above, in the memory each key takes.
_CACHED_VALUE_LENGTH = 512


@functools.lru_cache(maxsize=1024)
def _cleaned_value_cached(value: str, max_length: int) -> str:
    return clean_text(repair_wsgi_string(value), max_length)


def _forget_sites(**kwargs: object) -> None:
    is_own_site.cache_clear()
    _rule.cache_clear()
    _redacted.cache_clear()


setting_changed.connect(_forget_sites, dispatch_uid="lambdactr_django.beacon.capture")


class _Header(NamedTuple):
    name: str
    lowered: str
    canonical: str
    # Never stored, whatever the settings.
    refused: bool
    # Its value is kept (STORED_VALUES); else only its name.
    kept: bool


# Not cached itself: only _rule() asks, and keeps its answers.
def _header(meta_key: str) -> _Header | None:
    """The header a META key carries, as the privacy rules see it; None if it is none."""
    name = HttpHeaders.parse_header_name(meta_key)
    if name is None:
        return None
    lowered = name.lower()
    return _Header(
        name=name,
        lowered=lowered,
        canonical=canonical_header_name(name),
        refused=len(name) > MAX_HEADER_NAME_LENGTH or _never_stored(lowered),
        kept=lowered in STORED_VALUES or lowered.startswith(STORED_VALUE_PREFIXES),
    )


# What a header's value becomes: nothing, WITHHELD, kept, or kept as a cleaned referrer.
_DROP, _WITHHOLD, _KEEP, _REFERER = range(4)


class _Rule(NamedTuple):
    canonical: str
    action: int
    # Content-Type or Content-Length: kept only when a body was announced.
    body: bool


# The privacy rules of each META key, under the settings as they are: resolved
# once per key rather than per header per hit. Keyed by META key: browsers send
# the same few dozen headers, and the bound keeps made-up names from growing
# the cache. Forgotten when a setting changes (LAMBDACTR_REDACTED_HEADERS, ...,
# CSRF_HEADER_NAME).
@functools.lru_cache(maxsize=1024)
def _rule(meta_key: str) -> _Rule | None:
    header = _header(meta_key)
    if header is None:
        return None
    lowered = header.lowered
    action = _KEEP
    if header.refused or lowered in _redacted() or lowered == _csrf_header_name():
        action = _DROP
    elif not (
        header.kept
        or lowered in _lowered(conf.STORED_HEADERS)
        or (conf.STORE_CLIENT_IP and lowered in CLIENT_ADDRESS_HEADERS)
    ):
        action = _WITHHOLD
    elif lowered == "referer":
        action = _REFERER
    return _Rule(header.canonical, action, header.name in _BODY_HEADERS)


@functools.cache
def _redacted() -> frozenset[str]:
    # LAMBDACTR_REDACTED_HEADERS lowered, until a setting changes.
    return _lowered(conf.REDACTED_HEADERS)


def _lowered(names: Sequence[str]) -> frozenset[str]:
    # Cached on the setting's value: a settings override gets its own entry.
    return _lowered_cached(tuple(names))


@functools.lru_cache(maxsize=16)
def _lowered_cached(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(name.lower() for name in names)


def _never_stored(lowered_name: str) -> bool:
    # Whatever the settings: credentials and anti-forgery tokens.
    return lowered_name in NEVER_STORED or "csrf" in lowered_name or "xsrf" in lowered_name


def _csrf_header_name() -> str:
    # CSRF_HEADER_NAME is a META key such as "HTTP_X_CSRFTOKEN".
    meta_key: str = settings.CSRF_HEADER_NAME
    return meta_key.removeprefix("HTTP_").replace("_", "-").lower()


def canonical_header_name(name: str) -> str:
    words = name.replace("_", "-").split("-")
    return "-".join(_ACRONYMS.get(word.title(), word.title()) for word in words)


def _token(request: BeaconRequest, parameter: str) -> str | None:
    # None: no token was sent. "": one was sent but cannot be read.
    try:
        return request.GET.get(parameter)
    except SuspiciousOperation:
        # Too many parameters: treat the hit as unverifiable rather than lose it.
        return ""
