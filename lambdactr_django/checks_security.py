"""System checks of the hardening settings (docs/security.md): ids E3xx and W3xx."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence

from django.core.checks import CheckMessage, Error, Warning

from lambdactr_django.conf import conf


def _check_replay_timeout() -> list[CheckMessage]:
    value = conf.REPLAY_TIMEOUT
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 600:
        return []
    return [
        Error(
            f"LAMBDACTR_REPLAY_TIMEOUT should be a number of seconds above 0 and at most 600, "
            f"not {value!r}.",
            hint="It bounds one batch of the spool's replay and of the buffered flush.",
            id="lambdactr_django.E301",
        )
    ]


# Words in a header's name that suggest its value is an address, an identity or
# a secret: LAMBDACTR_STORED_HEADERS should not add such a header.
_REVEALING_WORDS = frozenset(
    {
        "ip",
        "ipv4",
        "ipv6",
        "addr",
        "address",
        "forwarded",
        "for",
        "client",
        "real",
        "remote",
        "via",
        "token",
        "accesstoken",
        "jwt",
        "assertion",
        "auth",
        "authorization",
        "key",
        "secret",
        "cookie",
        "session",
        "email",
        "user",
        "cert",
        "signature",
        "id",
        "sid",
        "uid",
        "principal",
    }
)
_REVEALING_PARTS = ("token", "jwt", "secret", "cookie", "session", "auth", "email", "forwarded")


def revealing_header(name: str) -> bool:
    """True when a header's name looks like it carries an address, identity or secret."""
    lowered = name.lower()
    words = set(lowered.replace("_", "-").split("-"))
    return bool(words & _REVEALING_WORDS) or any(part in lowered for part in _REVEALING_PARTS)


def _check_stored_headers_reveal_nothing() -> list[CheckMessage]:
    names = conf.STORED_HEADERS
    if isinstance(names, str) or not isinstance(names, Sequence):
        return []  # E302 already reports it.
    revealing = [str(name) for name in names if revealing_header(str(name))]
    if not revealing:
        return []
    return [
        Warning(
            "LAMBDACTR_STORED_HEADERS keeps the values of headers that look like they "
            "carry an address, an identity or a secret: " + ", ".join(revealing) + ".",
            hint="Store them by name only (remove them from the setting); for client "
            "addresses use LAMBDACTR_STORE_CLIENT_IP.",
            id="lambdactr_django.W301",
        )
    ]


def _check_export_max_rows() -> list[CheckMessage]:
    value = conf.EXPORT_MAX_ROWS
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        return []
    return [
        Error(
            f"LAMBDACTR_EXPORT_MAX_ROWS should be None or a positive integer, not {value!r}.",
            id="lambdactr_django.E303",
        )
    ]


def _check_spool_dir_writable() -> list[CheckMessage]:
    from lambdactr_django.store import spool

    value = conf.SPOOL_DIR
    if not isinstance(value, str | os.PathLike) or not os.path.isabs(value):
        return []  # W101 or E101 already reports it.
    try:
        # What the spool does at its first hit, done now so a mistake shows at
        # start-up rather than in the first outage.
        os.makedirs(value, mode=0o700, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=value, prefix=".lambdactr-probe-")
        try:
            spool.write_all_or_fail(fd, b"probe\n")
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as error:
        return [
            Warning(
                f"LAMBDACTR_SPOOL_DIR {str(value)!r} cannot be written: "
                f"{error.strerror or error}. Hits that arrive while the database is "
                "unavailable would be lost; buffered hits would be stored one by one.",
                hint="Create the directory, writable by the user the web server runs as, "
                "on a disk with room.",
                id="lambdactr_django.W302",
            )
        ]
    return []


def _check_trusted_proxies() -> list[CheckMessage]:
    from django.http import HttpRequest
    from ipware import get_client_ip

    value = conf.TRUSTED_PROXIES
    try:
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise ValueError("not a list")
        # ipware refuses a list it cannot match, as the rate limit would use it.
        get_client_ip(HttpRequest(), proxy_trusted_ips=list(value), algorithm="modern")
    except (ValueError, TypeError) as error:
        return [
            Error(
                "LAMBDACTR_TRUSTED_PROXIES should be a list of proxy addresses, networks "
                f"or prefixes, outermost first, not {value!r} ({error}).",
                hint='For one proxy on the same machine: ["127.0.0.1"].',
                id="lambdactr_django.E304",
            )
        ]
    return []


def _check_referrer_tokens() -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for name, check_id in (
        ("REFERRER_TOKEN_MAX_AGE", "lambdactr_django.E305"),
        ("REFERRER_TOKEN_USES", "lambdactr_django.E306"),
    ):
        value = getattr(conf, name)
        if not (isinstance(value, int) and not isinstance(value, bool) and value > 0):
            errors.append(
                Error(f"LAMBDACTR_{name} should be a positive integer, not {value!r}.", id=check_id)
            )
    return errors


def _check_sites() -> list[CheckMessage]:
    value = conf.SITES
    if value is None or (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and all(isinstance(site, str) for site in value)
    ):
        return []
    return [
        Error(
            f"LAMBDACTR_SITES should be None (ALLOWED_HOSTS) or a list of host names, "
            f"not {value!r}.",
            id="lambdactr_django.E307",
        )
    ]


# Ids are stable and never reused.
SECURITY_CHECKS: list[Callable[[], list[CheckMessage]]] = [
    _check_replay_timeout,
    _check_stored_headers_reveal_nothing,
    _check_export_max_rows,
    _check_spool_dir_writable,
    _check_trusted_proxies,
    _check_referrer_tokens,
    _check_sites,
]
