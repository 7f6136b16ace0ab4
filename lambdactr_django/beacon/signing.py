"""Signed tokens naming the page (or the site) a beacon link was rendered for.

A signed link is counted for the page it names, whatever its Referer says, and
cannot be reused to count another page.
"""

from __future__ import annotations

import zlib

from django.core import signing

from lambdactr_django.beacon.clean import clean_path, clean_site, clean_text
from lambdactr_django.hits import MAX_REFERRER_LENGTH, Page

TOKEN_PARAMETER = "t"
SIGNING_SALT = "lambdactr_django.page"
# The visitor link names only its site, signed without a timestamp so that its
# URL stays the same on every page of the site and the browser's cache can
# answer it for the rest of the day.
SITE_PARAMETER = "s"
SITE_SIGNING_SALT = "lambdactr_django.site"
# A signed token is a few hundred characters; anything far longer is noise and
# is not worth the HMAC.
MAX_TOKEN_LENGTH = 8192


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
