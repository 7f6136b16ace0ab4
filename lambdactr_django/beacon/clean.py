"""Make request-supplied text safe to store: printable, bounded, stripped of what
the counter must not keep (credentials and fragments of URLs, query parameters
outside the allowlist)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Generic, TypeVar
from urllib.parse import SplitResult, parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from django.core.signals import setting_changed

from lambdactr_django.conf import conf
from lambdactr_django.hits import MAX_PATH_LENGTH, MAX_REFERRER_LENGTH, MAX_SITE_LENGTH, Page

# PostgreSQL refuses NUL in text and jsonb; other C0 controls only make trouble
# when shown. Tab stays: it is legal in header values.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# A site's beacon sees the same pages and referrers over and over: the URL
# functions below keep their last answers, for URLs up to this long, so a
# hostile one neither fills the memory nor pushes out more than one entry.
_CACHED_URL_LENGTH = 2048
_CACHED_URLS = 1024

_T = TypeVar("_T")


class cached_by_url(Generic[_T]):  # lowercase: used as a decorator
    """``function`` of a URL, keeping its last answers for URLs up to 2,048
    characters long; its answers must not change until ``cache_clear()``."""

    def __init__(self, function: Callable[[str], _T]) -> None:
        self._function = function
        self._cached = functools.lru_cache(maxsize=_CACHED_URLS)(function)
        functools.update_wrapper(self, function)

    def __call__(self, url: str) -> _T:
        if len(url) <= _CACHED_URL_LENGTH:
            return self._cached(url)
        return self._function(url)

    def cache_clear(self) -> None:
        self._cached.cache_clear()


@cached_by_url
def referrer_host(referrer: str) -> str:
    """The host part of a stored referrer, for grouping; "" when there is none."""
    try:
        return (urlsplit(referrer).hostname or "")[:MAX_SITE_LENGTH]
    except ValueError:
        return ""


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


# Forgotten when a setting changes (LAMBDACTR_REFERRER_QUERY_ALLOWLIST).
@cached_by_url
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


# A Page is frozen: one answer can serve every hit from the page.
@cached_by_url
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


def _forget_referrers(**kwargs: object) -> None:
    clean_referrer.cache_clear()


setting_changed.connect(_forget_referrers, dispatch_uid="lambdactr_django.beacon.clean")
