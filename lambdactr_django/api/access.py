"""Who asks for the JSON statistics: a bearer token, else the admin's session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from lambdactr_django.api import tokens
from lambdactr_django.models import ApiToken

REALM = "lambdactr"


@dataclass(frozen=True)
class Caller:
    user: Any
    token: ApiToken | None

    @property
    def key(self) -> str:
        """Whose requests the rate limit counts together."""
        return f"token:{self.token.pk}" if self.token is not None else f"user:{self.user.pk}"


class Refused(Exception):
    def __init__(self, status: int, message: str, error: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        # RFC 6750's error code, for the WWW-Authenticate challenge of a 401.
        self.error = error

    @property
    def challenge(self) -> str:
        if self.error is None:
            return f'Bearer realm="{REALM}"'
        return f'Bearer realm="{REALM}", error="{self.error}"'


_READERS = "staff with the view permission of hits (lambdactr_django.view_headerhit)"


def caller(request: HttpRequest) -> Caller:
    """The token or the logged-in user asking; ``Refused`` when neither may read."""
    parts = str(request.META.get("HTTP_AUTHORIZATION", "")).split(None, 1)
    # Another scheme (Basic, say) belongs to a proxy in front of the site: the
    # session decides then.
    if parts and parts[0].lower() == "bearer":
        return _bearer(parts[1].strip() if len(parts) > 1 else "")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        raise Refused(401, "Send Authorization: Bearer and a token, or log in to the admin first.")
    if not tokens.may_read(user):
        raise Refused(403, f"Only {_READERS} may read the statistics.")
    return Caller(user, None)


def _bearer(secret: str) -> Caller:
    if not secret:
        raise Refused(401, 'The Authorization header has "Bearer" but no token.', "invalid_request")
    token = tokens.find(secret)
    if token is None:
        raise Refused(401, "The token is unknown or revoked.", "invalid_token")
    if not token.user.is_active:
        raise Refused(401, "The token's user is inactive.", "invalid_token")
    if not tokens.may_read(token.user):
        raise Refused(403, f"The token's user may not read the statistics: only {_READERS}.")
    return Caller(token.user, token)
