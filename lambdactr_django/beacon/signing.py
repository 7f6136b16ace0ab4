"""Signed tokens naming the page (or the site) a beacon link was rendered for.

A signed link is counted for the page it names, whatever its Referer says, and
cannot be reused to count another page. A token that names an external
referrer also carries the time it was made and expires
(``LAMBDACTR_REFERRER_TOKEN_MAX_AGE``): the page request's ``Referer`` is the
client's word, so such a token must not be minted once and replayed for ever.
"""

from __future__ import annotations

import zlib

from django.core import signing

from lambdactr_django.beacon.clean import clean_path, clean_site, clean_text
from lambdactr_django.conf import conf
from lambdactr_django.hits import MAX_REFERRER_LENGTH, Page

TOKEN_PARAMETER = "t"
SIGNING_SALT = "lambdactr_django.page"
# Tokens naming a referrer: signed with their time, under a salt of their own
# so that neither kind passes for the other.
DATED_SIGNING_SALT = "lambdactr_django.page.dated"
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
    value = [page.site, page.path, page.referrer]
    if page.referrer:
        return _dated_signer().sign_object(value, compress=True)
    # No timestamp without a referrer: the token never expires (a static page
    # keeps its link for years), and the same page renders the same link,
    # which HTML caches like. It can count only the site's own page.
    return _page_signer().sign_object(value, compress=True)


def _dated_signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=DATED_SIGNING_SALT)


def _page_signer() -> signing.Signer:
    # Built per call: SECRET_KEY is read when signing, so override_settings works.
    return signing.Signer(salt=SIGNING_SALT)


def read_token(token: str) -> Page | None:
    """The page a token names, or None when it is forged, truncated or malformed."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    value = _unsigned(token)
    if not (isinstance(value, list) and len(value) == 3 and all(isinstance(v, str) for v in value)):
        return None
    site, path, referrer = value
    return Page(
        site=clean_site(site),
        path=clean_path(path),
        referrer=clean_text(referrer, MAX_REFERRER_LENGTH),
    )


def _unsigned(token: str) -> object:
    try:
        value = _page_signer().unsign_object(token)
    except (signing.BadSignature, ValueError, zlib.error):
        pass
    else:
        # A timeless token naming a referrer is one made before tokens were
        # dated: its referrer may have been minted for replay; its page stands.
        if isinstance(value, list) and len(value) == 3 and isinstance(value[2], str):
            value[2] = ""
        return value
    try:
        # SignatureExpired is a BadSignature.
        return _dated_signer().unsign_object(token, max_age=conf.REFERRER_TOKEN_MAX_AGE)
    except (signing.BadSignature, ValueError, zlib.error):
        return None


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
