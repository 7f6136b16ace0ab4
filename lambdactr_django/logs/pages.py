"""Which lines of an access log are page views, and the hit each one is.

The log's counterpart of the beacon's capture: the same cleaning (beacon/clean.py),
the same external-referrer rule (beacon/embed.py), the same labels
(beacon/classify.py) and the same bound on a hit's size (beacon/bound.py).

A page view is a GET (a HEAD fetches no page: link checkers and monitors send
them, and the beacon counts GETs only) answered 2xx, for an HTML document:
the log's Content-Type says so when the format has ``$sent_http_content_type``;
otherwise the path must not end in an extension of something else (a
stylesheet, a script, an image, a font, a feed, a download). The counter's own
beacon URLs are never a page.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from typing import Final
from urllib.parse import unquote, urlsplit

from django.urls import reverse

from lambdactr_django.beacon import bound, classify, sources
from lambdactr_django.beacon.clean import clean_path, clean_site, clean_text, referrer_host
from lambdactr_django.beacon.embed import external_referrer
from lambdactr_django.conf import conf
from lambdactr_django.hits import MAX_HIT_BYTES, MAX_USER_AGENT_LENGTH, Hit, Kind, Resource
from lambdactr_django.logs.formats import Entry


class Skip:
    """Why a line was not imported: the summary's words, in the order they are tested."""

    UNREADABLE: Final = "not in the format"
    METHOD: Final = "not a GET"
    REDIRECT: Final = "redirect (3xx)"
    CLIENT_ERROR: Final = "client error (4xx)"
    SERVER_ERROR: Final = "server error (5xx)"
    OTHER_STATUS: Final = "other status (1xx, …)"
    NO_PATH: Final = "no page in the request"
    BEACON: Final = "the counter's own URLs"
    EXCLUDED: Final = "excluded path (--exclude)"
    ASSET: Final = "not a page (by extension)"
    NOT_HTML: Final = "not HTML (by Content-Type)"
    NO_SITE: Final = "no site (empty vhost)"
    LATER: Final = "at or after --before"
    ORDER: Final = (
        UNREADABLE,
        METHOD,
        REDIRECT,
        CLIENT_ERROR,
        SERVER_ERROR,
        OTHER_STATUS,
        NO_PATH,
        BEACON,
        EXCLUDED,
        ASSET,
        NOT_HTML,
        NO_SITE,
        LATER,
    )


# Extensions of what is not an HTML page. A path with any other extension (or
# none: /blog/post/, /about, /v1.2) is taken for a page.
ASSET_EXTENSIONS: Final = frozenset(
    " ".join(
        (
            # Styles, scripts, data.
            "css js mjs cjs map json jsonld xml xsl txt csv tsv wasm webmanifest",
            # Feeds.
            "rss atom rdf",
            # Images.
            "png jpg jpeg jpe jfif gif webp avif apng bmp ico cur svg svgz tif tiff heic heif jxl",
            # Fonts.
            "woff woff2 ttf otf eot",
            # Audio and video.
            "mp3 m4a aac oga ogg opus wav flac mid midi",
            "mp4 m4v webm ogv mov avi mkv wmv flv m3u8 ts",
            # Documents and downloads.
            "pdf doc docx xls xlsx ppt pptx odt ods odp epub rtf",
            "zip gz tgz bz2 xz zst 7z rar tar dmg pkg exe msi deb rpm apk iso img bin torrent",
            "asc sig gpg pem crt",
        )
    ).split()
)
# Last path segments that are feeds or machine files whatever their extension.
ASSET_NAMES: Final = frozenset({"feed", "rss", "atom", "robots.txt", "sitemap.xml"})
# Well-known URIs (RFC 8615: ACME challenges, security.txt, …) are never pages.
WELL_KNOWN: Final = "/.well-known/"
HTML_TYPES: Final = ("text/html", "application/xhtml+xml")


def beacon_paths() -> frozenset[str]:
    """The paths of the counter's own URLs, as a log of their host has them."""
    paths = {reverse(f"lambdactr:{name}") for name in ("stylesheet", "daily", "image")}
    base = conf.BASE_URL
    if base:
        # A counter on a host of its own may sit under a path there.
        prefix = urlsplit(base).path.rstrip("/")
        paths |= {prefix + path for path in paths}
    return frozenset(paths)


class Pages:
    """Decides, for one site (or a vhost field) and one format, which entries are pages."""

    def __init__(
        self,
        site: str | None,
        *,
        user_agent_logged: bool,
        exclude: Iterable[str] = (),
        before: dt.datetime | None = None,
    ) -> None:
        self.site = clean_site(site) if site else None
        self.user_agent_logged = user_agent_logged
        self.exclude = tuple(exclude)
        self.before = before
        self.beacon = beacon_paths()

    def skip_reason(self, entry: Entry) -> str:
        """Why ``entry`` is no page view; "" when it is one."""
        if entry.method != "GET":
            return Skip.METHOD
        status = entry.status
        if not 200 <= status < 300:
            if 300 <= status < 400:
                return Skip.REDIRECT
            if 400 <= status < 500:
                return Skip.CLIENT_ERROR
            return Skip.SERVER_ERROR if status >= 500 else Skip.OTHER_STATUS
        path = page_path(entry.target)
        if path is None:
            return Skip.NO_PATH
        if path in self.beacon:
            return Skip.BEACON
        if self.exclude and path.startswith(self.exclude):
            return Skip.EXCLUDED
        if entry.content_type:
            if not entry.content_type.lower().startswith(HTML_TYPES):
                return Skip.NOT_HTML
        elif is_asset(path):
            return Skip.ASSET
        if not self.site_of(entry):
            return Skip.NO_SITE
        if self.before is not None and entry.created_at >= self.before:
            return Skip.LATER
        return ""

    def site_of(self, entry: Entry) -> str:
        return self.site or clean_site(entry.host or "")

    def hit(self, entry: Entry) -> Hit:
        """The hit of a page view (``skip_reason`` was "")."""
        site = self.site_of(entry)
        path = clean_path(page_path(entry.target) or "")
        referrer = external_referrer(entry.referer, site) if entry.referer else ""
        headers: dict[str, str] = {}
        user_agent = ""
        if self.user_agent_logged:
            user_agent = clean_text(entry.user_agent or "", MAX_USER_AGENT_LENGTH)
            # What the log recorded of the request's headers: its user agent
            # (classify reads a log hit without one as a format without one).
            headers["User-Agent"] = user_agent
        labels = _labels(user_agent, self.user_agent_logged)
        host = referrer_host(referrer)
        # The request line is the landing page's URL, with the query the stored
        # path drops: its utm_* tags, read as the beacon reads them.
        campaign = sources.campaign_of(entry.target)
        hit = Hit(
            kind=Kind.VIEW,
            resource=Resource.LOG,
            site=site,
            path=path,
            referrer=referrer,
            referrer_host=host,
            browser=labels.browser,
            os=labels.os,
            device=labels.device,
            is_bot=labels.is_bot,
            bot_reason=labels.bot_reason,
            prefetch=labels.prefetch,
            dnt=labels.dnt,
            gpc=labels.gpc,
            # Not proven by a stylesheet load: out of the default statistics, with
            # the unsigned hits (docs/import.md).
            verified=False,
            user_agent=user_agent,
            headers=headers,
            channel=sources.channel_for(host, campaign),
            utm_source=campaign.source,
            utm_medium=campaign.medium,
            utm_campaign=campaign.campaign,
        )
        # bound.fit measures a hit in JSON, the cost of seven encodings. An
        # imported hit has few texts: when even at JSON's widest (12 bytes a
        # character) they fit, measuring them would only say so.
        chars = len(site) + len(path) + 2 * len(referrer) + 2 * len(user_agent)
        chars += len(campaign.source) + len(campaign.medium) + len(campaign.campaign)
        if bound.FIXED_BYTES + 12 * (chars + len(labels.browser)) + 64 <= MAX_HIT_BYTES:
            return hit
        return bound.fit(hit)


@functools.lru_cache(maxsize=classify.UA_CACHE_SIZE)
def _labels(user_agent: str, logged: bool) -> classify.Labels:
    # A logged hit's labels depend on its user agent alone: a log's few
    # thousand agents are labelled once each, not once per line.
    headers = {"User-Agent": user_agent} if logged else {}
    return classify.label(user_agent, headers, Resource.LOG)


def page_path(target: str) -> str | None:
    """The decoded path of a request target, without query or fragment; None if none."""
    if target.startswith("/"):
        path = target.split("?", 1)[0].split("#", 1)[0]
    elif target.startswith(("http://", "https://")):
        # The absolute form, which proxies are sent.
        try:
            path = urlsplit(target).path or "/"
        except ValueError:
            return None
    else:
        return None
    # Decoded as the beacon's pages are (Django's request.path, page_from_url).
    return unquote(path, errors="replace")


def is_asset(path: str) -> bool:
    if path.startswith(WELL_KNOWN):
        return True
    name = path.rstrip("/").rpartition("/")[2].lower()
    if name in ASSET_NAMES:
        return True
    stem, dot, extension = name.rpartition(".")
    return bool(dot and stem) and extension in ASSET_EXTENSIONS
