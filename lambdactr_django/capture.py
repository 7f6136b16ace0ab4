"""Turn an incoming beacon request into the fields of one hit.

Pure functions over the request: no ORM, no I/O, so they are cheap to test and
to reuse from the template tag, the management commands and the view.
"""

from __future__ import annotations

import functools
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import NamedTuple
from urllib.parse import SplitResult, parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest
from django.http.request import HttpHeaders

from lambdactr_django import classify
from lambdactr_django.conf import conf

# Column sizes; values are cut to fit rather than rejected, so a hit is never
# lost because one part of it was too long.
MAX_SITE_LENGTH = 255
MAX_PATH_LENGTH = 2000
MAX_REFERRER_LENGTH = 2000
MAX_USER_AGENT_LENGTH = 1000
MAX_HEADER_NAME_LENGTH = 128
# A signed token is a few hundred characters; anything far longer is noise and
# is not worth the HMAC.
MAX_TOKEN_LENGTH = 8192

TOKEN_PARAMETER = "t"
SIGNING_SALT = "lambdactr_django.page"
# The visitor link names only its site, signed without a timestamp so that its
# URL stays the same on every page of the site and the browser's cache can
# answer it for the rest of the day.
SITE_PARAMETER = "s"
SITE_SIGNING_SALT = "lambdactr_django.site"

# Hit kinds: a page view, or the first fetch of the visitor link by one
# browser on one day.
VIEW = "view"
VISITOR = "visitor"
# What the browser loaded: the <link> stylesheet or the <img> for places that
# cannot load a stylesheet (feed readers, e-mail).
STYLESHEET = "stylesheet"
IMAGE = "image"

# Credentials and anti-forgery tokens: never stored, whatever the settings.
NEVER_STORED = frozenset({"cookie", "cookie2", "authorization", "proxy-authorization"})
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
# PostgreSQL refuses NUL in text and jsonb; other C0 controls only make trouble
# when shown. Tab stays: it is legal in header values.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Page:
    site: str = ""
    path: str = ""
    referrer: str = ""


@dataclass(frozen=True, slots=True)
class Hit:
    site: str
    path: str
    referrer: str
    user_agent: str
    verified: bool
    headers: dict[str, str] = field(default_factory=dict)
    kind: str = VIEW
    resource: str = STYLESHEET
    referrer_host: str = ""
    browser: str = ""
    os: str = ""
    device: str = classify.OTHER
    is_bot: bool = False
    bot_reason: str = ""
    prefetch: str = ""
    dnt: bool = False
    gpc: bool = False


def capture(request: HttpRequest, kind: str = VIEW, resource: str = STYLESHEET) -> Hit:
    """Everything the counter stores about one beacon request."""
    headers = stored_headers(request)
    if kind == VISITOR:
        page, verified = _visitor_page(request, headers)
    else:
        page, verified = _viewed_page(request, headers)
    user_agent = headers.get("User-Agent", "")[:MAX_USER_AGENT_LENGTH]
    labels = labels_for(user_agent, headers, resource)
    return Hit(
        site=page.site,
        path=page.path,
        referrer=page.referrer,
        user_agent=user_agent,
        verified=verified,
        headers=headers,
        kind=kind,
        resource=resource,
        referrer_host=referrer_host(page.referrer),
        **labels.fields(),
    )


def labels_for(user_agent: str, headers: dict[str, str], resource: str) -> classify.Labels:
    """The labels of a hit from what is stored of it; capture and lambdactr_reclassify
    both use this, so a stored hit reclassifies to what capture would say today."""
    return classify.label(user_agent, headers, resource, _lowered(conf.REDACTED_HEADERS))


def should_store(hit: Hit) -> bool:
    """False when the visitor asked not to be counted and the site honours it."""
    return not ((hit.dnt or hit.gpc) and conf.PRIVACY_SIGNALS == "honour")


def _viewed_page(request: HttpRequest, headers: dict[str, str]) -> tuple[Page, bool]:
    token = _token(request, TOKEN_PARAMETER)
    page = read_token(token) if token is not None else None
    if page is not None:
        return page, True
    # No (valid) token: the stylesheet request's Referer is the page itself.
    page = page_from_url(headers.get("Referer", ""))
    return page, token is None and not conf.REQUIRE_SIGNATURE


def _visitor_page(request: HttpRequest, headers: dict[str, str]) -> tuple[Page, bool]:
    # A visitor-day belongs to a site, not to a page: the first page of the day
    # is the only one whose request reaches the server at all.
    token = _token(request, SITE_PARAMETER)
    site = read_site_token(token) if token is not None else None
    if site is not None:
        return Page(site=site), True
    site = page_from_url(headers.get("Referer", "")).site
    return Page(site=site), token is None and not conf.REQUIRE_SIGNATURE


def referrer_host(referrer: str) -> str:
    """The host part of a stored referrer, for grouping; "" when there is none."""
    try:
        return (urlsplit(referrer).hostname or "")[:MAX_SITE_LENGTH]
    except ValueError:
        return ""


def stored_headers(request: HttpRequest) -> dict[str, str]:
    """The request's headers under canonical names, after the privacy rules."""
    headers: dict[str, str] = {}
    # Settings read once per request, not once per header: this is the hot path.
    never = _lowered(conf.REDACTED_HEADERS) | {_csrf_header_name()}
    store_address = conf.STORE_CLIENT_IP
    limit = conf.MAX_HEADERS
    max_length = conf.MAX_HEADER_LENGTH
    # META rather than request.headers: the same headers in the same order,
    # without building a second mapping of them on every request.
    for key, value in request.META.items():
        header = _header(key)
        if header is None:
            continue
        if header.name in _BODY_HEADERS and not request.META.get("CONTENT_LENGTH"):
            continue
        if len(headers) >= limit:
            break
        if header.refused or header.lowered in never:
            continue
        if header.lowered in CLIENT_ADDRESS_HEADERS and not store_address:
            continue
        text = clean_text(repair_wsgi_string(value), max_length)
        if header.lowered == "referer":
            text = clean_referrer(text)
        headers[header.canonical] = text
    if store_address and len(headers) < limit:
        address = request.META.get("REMOTE_ADDR", "")
        if address:
            headers[REMOTE_ADDR_KEY] = clean_text(address, max_length)
    return headers


class _Header(NamedTuple):
    name: str
    lowered: str
    canonical: str
    # Never stored, whatever the settings.
    refused: bool


# Keyed by META key: browsers send the same few dozen headers, and the bound
# keeps made-up names from growing the cache.
@functools.lru_cache(maxsize=1024)
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
    )


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


def repair_wsgi_string(value: str) -> str:
    # WSGI hands headers over as latin-1; browsers send UTF-8. Undo the former
    # the way Django does for PATH_INFO, replacing bytes that are not UTF-8.
    if value.isascii():
        # Nearly every header, and the same in both encodings.
        return value
    try:
        return value.encode("iso-8859-1").decode("utf-8", errors="replace")
    except UnicodeEncodeError:
        return value


def clean_text(value: str, limit: int) -> str:
    """Printable text a database can store, at most ``limit`` characters."""
    if value.isascii() and value.isprintable():
        # Nearly every header: no control character, no surrogate to remove.
        return value[:limit]
    value = _CONTROL_CHARACTERS.sub("", value)
    # Lone surrogates cannot be encoded as UTF-8, so no database can store them.
    value = value.encode("utf-8", errors="replace").decode("utf-8")
    return value[:limit]


def clean_referrer(url: str) -> str:
    """``url`` without credentials, fragment, or query parameters not allowed."""
    url = clean_text(url, MAX_REFERRER_LENGTH * 2)
    try:
        parts = urlsplit(url)
        netloc = _host_and_port(parts)
    except ValueError:
        return ""
    query = _allowed_query(parts.query)
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, query, ""))[:MAX_REFERRER_LENGTH]


def _allowed_query(query: str) -> str:
    patterns = [pattern.lower() for pattern in conf.REFERRER_QUERY_ALLOWLIST]
    if not query or not patterns:
        return ""
    kept = [
        (key, value)
        for key, value in parse_qsl(query, keep_blank_values=True)
        if any(fnmatchcase(key.lower(), pattern) for pattern in patterns)
    ]
    return urlencode(kept)


def page_from_url(url: str) -> Page:
    """The site and path of a page, from its URL."""
    try:
        parts = urlsplit(url)
        site = _host_and_port(parts)
    except ValueError:
        return Page()
    path = unquote(parts.path, errors="replace")
    return Page(site=clean_site(site), path=clean_path(path))


def _host_and_port(parts: SplitResult) -> str:
    # Raises ValueError for a port that is not a number or out of range.
    host = parts.hostname or ""
    port = parts.port
    if ":" in host:
        # An IPv6 address keeps its brackets, as in the Host header the
        # template tag signs, so both name the site the same way.
        host = f"[{host}]"
    return f"{host}:{port}" if port else host


def clean_site(site: str) -> str:
    return clean_text(site.lower(), MAX_SITE_LENGTH)


def clean_path(path: str) -> str:
    return clean_text(path, MAX_PATH_LENGTH)


def sign_page(page: Page) -> str:
    """A tamper-proof token naming the page a link was rendered for."""
    # No timestamp: the token never expires (a static page keeps its link for
    # years), and the same page renders the same link, which HTML caches like.
    return _page_signer().sign_object([page.site, page.path, page.referrer], compress=True)


def _page_signer() -> signing.Signer:
    # Built per call: SECRET_KEY is read when signing, so override_settings works.
    return signing.Signer(salt=SIGNING_SALT)


def read_token(token: str) -> Page | None:
    """The page a token names, or None when it is forged, truncated or malformed."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        value = _page_signer().unsign_object(token)
    except (signing.BadSignature, ValueError, zlib.error):
        return None
    if not (isinstance(value, list) and len(value) == 3 and all(isinstance(v, str) for v in value)):
        return None
    site, path, referrer = value
    return Page(
        site=clean_site(site),
        path=clean_path(path),
        referrer=clean_text(referrer, MAX_REFERRER_LENGTH),
    )


def sign_site(site: str) -> str:
    """A tamper-proof token naming a site; the same every time for the same site."""
    return signing.Signer(salt=SITE_SIGNING_SALT).sign(clean_site(site))


def read_site_token(token: str) -> str | None:
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        return clean_site(signing.Signer(salt=SITE_SIGNING_SALT).unsign(token))
    except signing.BadSignature:
        return None


def _token(request: HttpRequest, parameter: str) -> str | None:
    # None: no token was sent. "": one was sent but cannot be read.
    try:
        return request.GET.get(parameter)
    except SuspiciousOperation:
        # Too many parameters: treat the hit as unverifiable rather than lose it.
        return ""
