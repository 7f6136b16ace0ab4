"""The API's read-only tokens: made once, kept as a hash, revoked at any time."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from lambdactr_django.models import ApiToken

# Recognisable in a leaked log or a secret scanner's rules.
SCHEME_PREFIX = "lctr_"
# The first characters of a token, kept to tell tokens apart: not enough to guess the rest.
SHOWN_CHARACTERS = len(SCHEME_PREFIX) + 8
# How often a token's "last used" is written: not on every request.
LAST_USED_EVERY = dt.timedelta(minutes=1)
VIEW_PERMISSION = "lambdactr_django.view_headerhit"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(user: Any, name: str = "") -> tuple[ApiToken, str]:
    """A new token of ``user``: the stored row and the secret, which is shown only now."""
    token = ApiToken(user=user, name=name)
    secret = fill(token)
    token.save()
    return token, secret


def fill(token: ApiToken) -> str:
    """Give an unsaved ``token`` a new secret; returns it, keeps only its hash."""
    # 32 random bytes: a token cannot be guessed, so a plain hash is enough to store.
    secret = SCHEME_PREFIX + secrets.token_urlsafe(32)
    token.prefix = secret[:SHOWN_CHARACTERS]
    token.digest = digest(secret)
    return secret


def find(secret: str) -> ApiToken | None:
    """The live token with this secret, or None (unknown or revoked)."""
    if not secret.startswith(SCHEME_PREFIX) or len(secret) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=digest(secret), revoked_at__isnull=True)
        .first()
    )
    if token is not None:
        _touch(token)
    return token


def _touch(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def revoke(tokens: QuerySet[ApiToken]) -> int:
    """Revoke ``tokens`` at once; the number that were live."""
    return tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def may_read(user: Any) -> bool:
    """Whether ``user`` may read the statistics: who may open the admin's statistics page."""
    return bool(
        user is not None and user.is_active and user.is_staff and user.has_perm(VIEW_PERMISSION)
    )
