"""Where a view came from and in which language: the channel, the landing page's
campaign tags, and the browser's first language. Derived at capture, so only
these short values are stored (docs/privacy.md); pure functions, no I/O.
"""

from __future__ import annotations

import functools
import re
from typing import Final, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from django.utils.translation.trans_real import parse_accept_lang_header
from referer_parser import REFERERS

from lambdactr_django.beacon.clean import cached_by_url, clean_text
from lambdactr_django.hits import MAX_LANGUAGE_LENGTH, MAX_UTM_LENGTH, Channel

# Snowplow's referer-parser list (its "medium" of each known host) names most
# search engines, social networks and webmail hosts; these came after its last
# release, and are added here.
NEWER_HOSTS: Final = {
    "bsky.app": "social",
    "mastodon.social": "social",
    "threads.net": "social",
    "x.com": "social",
    "search.brave.com": "search",
    "kagi.com": "search",
    "outlook.live.com": "email",
}
_MEDIUMS: Final = {"search": Channel.SEARCH, "social": Channel.SOCIAL, "email": Channel.EMAIL}

# utm_medium values, as the common guides spell them, and the channel each means.
_TAGGED: Final = {
    Channel.EMAIL: frozenset({"email", "e-mail", "e_mail", "mail", "newsletter"}),
    Channel.SOCIAL: frozenset({"social", "social-media", "social_media", "sm", "social-network"}),
    Channel.PAID: frozenset(
        {"cpc", "ppc", "paid", "paidsearch", "paid-search", "paid_search", "paid-social"}
        | {"paid_social", "paidsocial", "cpm", "cpv", "display", "banner", "ads"}
    ),
    Channel.SEARCH: frozenset({"organic", "search"}),
    Channel.REFERRAL: frozenset({"referral", "referrer"}),
}
UTM_PARAMETERS: Final = ("utm_source", "utm_medium", "utm_campaign")
MAX_QUERY_LENGTH: Final = 4096
_SPACES = re.compile(r"\s+")
# A primary language subtag, and a region: two letters or three digits (es-419).
_PRIMARY = re.compile(r"[a-z]{2,3}")
_REGION = re.compile(r"[a-z]{2}|[0-9]{3}")


class Campaign(NamedTuple):
    source: str = ""
    medium: str = ""
    campaign: str = ""


# The same pages over and over; a long URL is not kept (bounded memory).
@cached_by_url
def campaign_of(page_url: str) -> Campaign:
    """The ``utm_source``, ``utm_medium`` and ``utm_campaign`` of a page's URL,
    lowercased, spaces collapsed, each at most ``MAX_UTM_LENGTH`` characters."""
    try:
        query = urlsplit(page_url).query
    except ValueError:
        return Campaign()
    if "utm_" not in query.lower():
        return Campaign()
    found: dict[str, str] = {}
    # Bounded work for a hostile URL: tags sit at the start of any real one.
    for key, value in parse_qsl(query[:MAX_QUERY_LENGTH], keep_blank_values=True):
        name = key.lower()
        if name in UTM_PARAMETERS and name not in found:
            found[name] = normalised(value)
    return Campaign(*(found.get(name, "") for name in UTM_PARAMETERS))


def normalised(value: str) -> str:
    text = clean_text(value, MAX_UTM_LENGTH * 4)
    return _SPACES.sub(" ", text).strip().lower()[:MAX_UTM_LENGTH]


def channel_for(referrer_host: str, campaign: Campaign) -> str:
    """The channel of a view: by its campaign's medium when tagged, else by its
    external referrer's host; "" for neither (direct, or a link on the site)."""
    if campaign.medium:
        for channel, mediums in _TAGGED.items():
            if campaign.medium in mediums:
                return channel
        return Channel.CAMPAIGN
    if referrer_host:
        return _MEDIUMS.get(_medium_of(referrer_host.lower()), Channel.REFERRAL)
    if campaign.source or campaign.campaign:
        return Channel.CAMPAIGN
    return ""


@functools.lru_cache(maxsize=4096)
def _medium_of(host: str) -> str:
    # The host, then each parent domain: "l.facebook.com", then "facebook.com".
    labels = host.removeprefix("www.").split(".")
    for start in range(len(labels) - 1):
        name = ".".join(labels[start:])
        known = NEWER_HOSTS.get(name) or REFERERS.get(name, {}).get("medium")
        if known:
            return str(known)
    return ""


@functools.lru_cache(maxsize=1024)
def language_of(accept_language: str) -> str:
    """The browser's first language, with its region if given: "en-US", "de",
    "es-419"; "" for none (or "*"). Parsed by Django's own parser."""
    for tag, _ in parse_accept_lang_header(accept_language.lower()):
        parts = tag.split("-")
        if not _PRIMARY.fullmatch(parts[0]):
            continue
        # The region is the first later subtag that is one (zh-hant-tw: TW).
        region = next((part for part in parts[1:] if _REGION.fullmatch(part)), "")
        language = f"{parts[0]}-{region.upper()}" if region else parts[0]
        return language[:MAX_LANGUAGE_LENGTH]
    return ""
