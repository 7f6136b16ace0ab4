"""The hit: what the counter keeps of one beacon request, and the words it is made of.

No ORM and no request here: the beacon builds a ``Hit``, the store keeps it as a
``HeaderHit`` row, and the statistics count those rows, all in this vocabulary.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Final

# Column sizes; values are cut to fit rather than rejected, so a hit is never
# lost because one part of it was too long.
MAX_SITE_LENGTH: Final = 255
MAX_PATH_LENGTH: Final = 2000
MAX_REFERRER_LENGTH: Final = 2000
MAX_USER_AGENT_LENGTH: Final = 1000
# Browser and OS family names, which are far shorter.
MAX_FAMILY_LENGTH: Final = 64
# kind, resource, device, prefetch and bot_reason.
MAX_LABEL_LENGTH: Final = 16
MAX_BOT_REASON_LENGTH: Final = 32
# utm_source, utm_medium and utm_campaign of a landing page, cut to this.
MAX_UTM_LENGTH: Final = 100
# A language tag as stored: the primary language and the region, "en-US", "es-419".
MAX_LANGUAGE_LENGTH: Final = 16
# An ISO 3166-1 alpha-2 code.
COUNTRY_LENGTH: Final = 2
# One hit's size in bytes as stored, at most (beacon/bound.py): ample for a real
# browser's request, and what bounds the rows, the spool and its batches.
MAX_HIT_BYTES: Final = 16 * 1024


class Kind:
    """What one hit counts: a page view, the first view of one browser on one day
    (a visitor-day, which is also that browser's visit), or its second view that day."""

    VIEW: Final = "view"
    # Stored as "visitor": the value predates the name.
    VISITOR_DAY: Final = "visitor"
    # The visitor link's second request of the day in one browser: a visit
    # without one is a bounce (docs/visits.md).
    SECOND_VIEW: Final = "second"
    LABELS: Final = {VIEW: "page view", VISITOR_DAY: "visitor-day", SECOND_VIEW: "second view"}


class Channel:
    """How a page view arrived from elsewhere ("" when it did not: no external
    referrer and no campaign tag, so direct or internal)."""

    SEARCH: Final = "search"
    SOCIAL: Final = "social"
    EMAIL: Final = "email"
    PAID: Final = "paid"
    # A referrer outside every list: another site.
    REFERRAL: Final = "referral"
    # Campaign-tagged, with a medium none of the above.
    CAMPAIGN: Final = "campaign"
    LABELS: Final = {
        SEARCH: "search",
        SOCIAL: "social",
        EMAIL: "e-mail",
        PAID: "paid",
        REFERRAL: "other sites",
        CAMPAIGN: "other campaigns",
    }


class Resource:
    """What the browser loaded: the <link> stylesheet, or the <img> for places that
    cannot load a stylesheet (feed readers, e-mail); or, for a hit imported from a
    web server's access log (lambdactr_import_log), the page itself, which proves
    no stylesheet load."""

    STYLESHEET: Final = "stylesheet"
    IMAGE: Final = "image"
    LOG: Final = "log"
    LABELS: Final = {STYLESHEET: "stylesheet", IMAGE: "image", LOG: "page, in an access log"}


class Device:
    """The device column, from the user agent."""

    DESKTOP: Final = "desktop"
    MOBILE: Final = "mobile"
    TABLET: Final = "tablet"
    BOT: Final = "bot"
    OTHER: Final = "other"
    LABELS: Final = {
        DESKTOP: "desktop",
        MOBILE: "mobile",
        TABLET: "tablet",
        BOT: "bot",
        OTHER: "other",
    }


class BotReason:
    """Why a hit was labelled a bot: the first rule that matched ("" for a person)."""

    NO_USER_AGENT: Final = "no-ua"
    CRAWLER: Final = "crawler"
    FETCH_DEST: Final = "fetch-dest"
    NO_LANGUAGE: Final = "no-lang"
    LABELS: Final = {
        NO_USER_AGENT: "no user agent",
        CRAWLER: "crawler user agent",
        FETCH_DEST: "not loaded as a page resource",
        NO_LANGUAGE: "no Accept-Language",
    }


class Prefetch:
    """The prefetch column: was the request speculative ("" when it was not)."""

    PREFETCH: Final = "prefetch"
    PRERENDER: Final = "prerender"
    LABELS: Final = {"": "no", PREFETCH: "prefetch", PRERENDER: "prerender"}


@dataclass(frozen=True, slots=True)
class Page:
    """The page a hit is for, and the external referrer that led to it."""

    site: str = ""
    path: str = ""
    referrer: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Hit:
    """One captured beacon request, after the privacy rules; stored as one ``HeaderHit``.

    The fields are named after the model's columns and are in the order the hit
    list's detail page and the export show them.
    """

    kind: str = Kind.VIEW
    resource: str = Resource.STYLESHEET
    site: str
    path: str
    referrer: str
    referrer_host: str = ""
    browser: str = ""
    os: str = ""
    device: str = Device.OTHER
    is_bot: bool = False
    bot_reason: str = ""
    prefetch: str = ""
    dnt: bool = False
    gpc: bool = False
    verified: bool
    user_agent: str
    headers: dict[str, str] = field(default_factory=dict)
    # Derived at capture (docs/privacy.md): how a view arrived, the landing
    # page's campaign tags, the browser's first language, and the country.
    channel: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    language: str = ""
    country: str = ""


# Every column of a stored hit, in one order: the hit's own fields after the
# two the store makes (its key and time). The export, the seed and the
# journal all use this list.
HIT_FIELDS: Final = tuple(f.name for f in dataclasses.fields(Hit))
COLUMNS: Final = ("id", "created_at", *HIT_FIELDS)
