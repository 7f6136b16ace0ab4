"""Label a hit from its stored user agent and headers: what browser, and was it a person.

Pure functions over stored values, so capture (at request time) and
lambdactr_reclassify (over the stored table) apply exactly the same rules.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import crawleruseragents
import ua_parser

from lambdactr_django.hits import MAX_FAMILY_LENGTH, BotReason, Device, Prefetch, Resource

# What a browser sends in Sec-Fetch-Dest when it loads the resource as the page
# asked for it; anything else (a "document" when the URL is opened directly, an
# "empty" from fetch()) is not a page view.
EXPECTED_DESTINATION: dict[str, str] = {Resource.STYLESHEET: "style", Resource.IMAGE: "image"}

# What an access log does not record (lambdactr_import_log): a hit imported from
# one has none of these headers, which says nothing about its client, so the
# bot rules that read them are skipped for it, as for a redacted header.
# Otherwise every imported hit would be a bot for want of an Accept-Language.
# Only the user-agent rules (none, a crawler's) label a logged hit; with no
# speculative-loading or privacy-signal headers it is no prefetch and sent no DNT.
# Its headers hold a User-Agent when its log's format has one ("" for a "-"):
# a format without it (Common Log Format) says nothing of the client either.
NOT_IN_ACCESS_LOGS = frozenset({"accept-language", "sec-fetch-dest"})

# ua-parser has no device type; these families decide it.
_MOBILE_OS = frozenset(
    {"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "Firefox OS", "Symbian OS"}
)
_DESKTOP_OS = frozenset(
    {
        "Windows",
        "Mac OS X",
        "Linux",
        "Ubuntu",
        "Debian",
        "Fedora",
        "Red Hat",
        "Arch Linux",
        "Chrome OS",
        "FreeBSD",
        "OpenBSD",
        "NetBSD",
        "Solaris",
    }
)
_TABLET_WORDS = ("ipad", "tablet", "kindle", "silk", "playbook")
# A cache entry is a few short strings; real traffic has a long tail of user
# agents but a small head that repeats all day.
UA_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Agent:
    browser: str
    os: str
    device: str
    crawler: bool


@dataclass(frozen=True, slots=True)
class Labels:
    browser: str
    os: str
    device: str
    is_bot: bool
    bot_reason: str
    prefetch: str
    dnt: bool
    gpc: bool


def label(
    user_agent: str,
    headers: dict[str, str],
    resource: str,
    redacted: frozenset[str] = frozenset(),
) -> Labels:
    """Every label of one hit. ``redacted`` names (lower-case) headers not stored,
    whose rules are therefore skipped rather than taken as missing; for a hit read
    from an access log (``Resource.LOG``), every header such a log lacks."""
    if resource == Resource.LOG:
        redacted = redacted | NOT_IN_ACCESS_LOGS
        if "User-Agent" not in headers:
            redacted = redacted | {"user-agent"}
    agent = parse_agent(user_agent)
    reason = bot_reason(user_agent, agent, headers, resource, redacted)
    return Labels(
        browser=agent.browser,
        os=agent.os,
        device=agent.device,
        is_bot=bool(reason),
        bot_reason=reason,
        prefetch=prefetch_kind(headers),
        dnt=headers.get("DNT", "").strip() == "1",
        gpc=headers.get("Sec-GPC", "").strip() == "1",
    )


def bot_reason(
    user_agent: str,
    agent: Agent,
    headers: dict[str, str],
    resource: str,
    redacted: frozenset[str] = frozenset(),
) -> str:
    """The code of the first bot rule that matches, or "" for a person."""
    if not user_agent.strip():
        return "" if "user-agent" in redacted else BotReason.NO_USER_AGENT
    if agent.crawler:
        return BotReason.CRAWLER
    if _wrong_destination(headers, resource, redacted):
        return BotReason.FETCH_DEST
    if "accept-language" not in redacted and not headers.get("Accept-Language", "").strip():
        return BotReason.NO_LANGUAGE
    return ""


def _wrong_destination(headers: dict[str, str], resource: str, redacted: frozenset[str]) -> bool:
    if "sec-fetch-dest" in redacted:
        return False
    # Only a client that speaks fetch metadata can be held to it: Safari before
    # 16.4 and plain HTTP libraries send none of these headers.
    if not any(name in headers for name in ("Sec-Fetch-Dest", "Sec-Fetch-Mode", "Sec-Fetch-Site")):
        return False
    expected = EXPECTED_DESTINATION.get(resource)
    return expected is not None and headers.get("Sec-Fetch-Dest", "").strip() != expected


def prefetch_kind(headers: dict[str, str]) -> str:
    """ "prerender", "prefetch" or "" from the speculative-loading headers."""
    # Chromium: Sec-Purpose "prefetch" or "prefetch;prerender". Older Chromium
    # and Firefox: Purpose or X-Moz "prefetch"; Safari's previews: X-Purpose "preview".
    values = " ".join(
        headers.get(name, "") for name in ("Sec-Purpose", "Purpose", "X-Purpose", "X-Moz")
    ).lower()
    if "prerender" in values:
        return Prefetch.PRERENDER
    if "prefetch" in values or "preview" in values:
        return Prefetch.PREFETCH
    return ""


@functools.lru_cache(maxsize=UA_CACHE_SIZE)
def parse_agent(user_agent: str) -> Agent:
    """Browser family, OS family and device type of a user agent (cached)."""
    if not user_agent.strip():
        return Agent(browser="", os="", device=Device.OTHER, crawler=False)
    result = ua_parser.parse(user_agent)
    browser = result.user_agent.family if result.user_agent else "Other"
    os_family = result.os.family if result.os else "Other"
    spider = result.device is not None and result.device.family == "Spider"
    crawler = spider or crawleruseragents.is_crawler(user_agent)
    return Agent(
        browser=browser[:MAX_FAMILY_LENGTH],
        os=os_family[:MAX_FAMILY_LENGTH],
        device=Device.BOT if crawler else _device(user_agent, result, os_family),
        crawler=crawler,
    )


def compile_patterns() -> None:
    """Have the parsers compile their patterns now: a few hundred milliseconds,
    once per process, that the first hit would otherwise wait for."""
    # Past the cache, which would answer without compiling anything. A user
    # agent no pattern matches has every pattern tried, and so compiled.
    parse_agent.__wrapped__("-")


def _device(user_agent: str, result: ua_parser.Result, os_family: str) -> str:
    lowered = user_agent.lower()
    device = result.device
    device_words = (
        f"{device.family} {device.brand or ''} {device.model or ''}".lower() if device else ""
    )
    if any(word in device_words for word in _TABLET_WORDS) or any(
        word in lowered for word in _TABLET_WORDS
    ):
        return Device.TABLET
    # Android phones say "Mobile"; Android tablets leave it out.
    if os_family == "Android" and "mobile" not in lowered:
        return Device.TABLET
    if os_family in _MOBILE_OS or "mobile" in lowered:
        return Device.MOBILE
    if os_family in _DESKTOP_OS:
        return Device.DESKTOP
    return Device.OTHER
