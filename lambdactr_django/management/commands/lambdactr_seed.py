from __future__ import annotations

import bisect
import datetime as dt
import itertools
import json
import random
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections, router, transaction

from lambdactr_django import capture, keys
from lambdactr_django.conf import conf
from lambdactr_django.models import HeaderHit

# Header sets by client; what each sends with <link rel="stylesheet"> (or <img>).
CHROMIUM = "chromium"
FIREFOX = "firefox"
SAFARI = "safari"
# Safari before 16.4: no fetch metadata.
OLD_SAFARI = "old-safari"
# Crawlers and HTTP libraries: Accept */*, no Accept-Language, no fetch metadata.
CRAWLER = "crawler"

# (weight, client, platform for Sec-CH-UA-Platform, user agent). Real strings,
# roughly the shares a small technical blog sees; bots are about a tenth.
USER_AGENTS: list[tuple[float, str, str, str]] = [
    (
        24.0,
        CHROMIUM,
        '"Windows"',
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
    ),
    (
        8.0,
        CHROMIUM,
        '"macOS"',
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
    ),
    (
        3.0,
        CHROMIUM,
        '"Linux"',
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/123.0.0.0 Safari/537.36",
    ),
    (
        6.0,
        CHROMIUM,
        '"Windows"',
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
    ),
    (
        1.0,
        CHROMIUM,
        '"Windows"',
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36 OPR/110.0.0.0",
    ),
    (
        1.0,
        CHROMIUM,
        '"Chrome OS"',
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
    ),
    (
        12.0,
        CHROMIUM,
        '"Android"',
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Mobile Safari/537.36",
    ),
    (
        2.0,
        CHROMIUM,
        '"Android"',
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
    ),
    (
        1.0,
        CHROMIUM,
        '"Android"',
        "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
    ),
    (
        6.0,
        FIREFOX,
        "",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    ),
    (
        2.0,
        FIREFOX,
        "",
        "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    ),
    (
        1.5,
        FIREFOX,
        "",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:125.0) Gecko/20100101 Firefox/125.0",
    ),
    (
        1.0,
        FIREFOX,
        "",
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0",
    ),
    (
        0.8,
        FIREFOX,
        "",
        "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
    ),
    (
        5.0,
        SAFARI,
        "",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4.1 Safari/605.1.15",
    ),
    (
        11.0,
        SAFARI,
        "",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
    ),
    (
        2.0,
        SAFARI,
        "",
        "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4 Mobile/15E148 Safari/604.1",
    ),
    (
        1.5,
        SAFARI,
        "",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
    ),
    (
        1.0,
        OLD_SAFARI,
        "",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 15_6 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/15.6 Mobile/15E148 Safari/604.1",
    ),
    (
        0.5,
        OLD_SAFARI,
        "",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/16.1 Safari/605.1.15",
    ),
    (
        3.0,
        CRAWLER,
        "",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    ),
    (
        1.5,
        CRAWLER,
        "",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    ),
    (
        1.5,
        CRAWLER,
        "",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    ),
    (
        0.8,
        CRAWLER,
        "",
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    ),
    (
        0.5,
        CRAWLER,
        "",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; "
        "+http://www.apple.com/go/applebot)",
    ),
    (
        0.5,
        CRAWLER,
        "",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    ),
    (
        0.5,
        CRAWLER,
        "",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
        "+https://openai.com/gptbot)",
    ),
    (0.6, CRAWLER, "", "python-requests/2.31.0"),
    (0.4, CRAWLER, "", "curl/8.5.0"),
    (0.4, CRAWLER, "", "Go-http-client/1.1"),
    (
        0.5,
        CHROMIUM,
        '"Linux"',
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/124.0.0.0 Safari/537.36",
    ),
]

LANGUAGES = [
    (40.0, "en-US,en;q=0.9"),
    (12.0, "en-GB,en;q=0.9"),
    (10.0, "de-DE,de;q=0.9,en;q=0.8"),
    (7.0, "fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7"),
    (5.0, "es-ES,es;q=0.9"),
    (4.0, "nl-NL,nl;q=0.9,en;q=0.8"),
    (4.0, "ja,en-US;q=0.9,en;q=0.8"),
    (3.0, "pt-BR,pt;q=0.9,en;q=0.8"),
    (3.0, "pl-PL,pl;q=0.9,en;q=0.8"),
]

# Most page views have no referrer (direct, or stripped by Referrer-Policy).
REFERRERS = [
    (70.0, ""),
    (12.0, "https://www.google.com/"),
    (2.0, "https://duckduckgo.com/"),
    (1.5, "https://www.bing.com/"),
    (3.0, "https://news.ycombinator.com/"),
    (2.0, "https://www.reddit.com/"),
    (1.5, "https://lobste.rs/"),
    (1.5, "https://github.com/"),
    (1.0, "https://t.co/"),
    (1.0, "https://mastodon.social/"),
    (0.5, "https://www.linkedin.com/"),
    (0.5, "https://search.brave.com/"),
    (0.5, "android-app://com.google.android.gm/"),
    (0.5, "https://www.google.com/?utm_source=newsletter&utm_medium=email"),
]

_SITE_WORDS = [
    "blog",
    "notes",
    "docs",
    "garden",
    "journal",
    "recipes",
    "travel",
    "photos",
    "code",
    "shop",
    "news",
    "lab",
    "wiki",
    "club",
    "studio",
    "press",
    "music",
    "books",
    "cycling",
    "maps",
]
_PATH_SECTIONS = ["blog", "posts", "notes", "docs", "tags", "projects", "talks", "til"]
_SLUG_WORDS = [
    "django",
    "python",
    "postgres",
    "sqlite",
    "caching",
    "privacy",
    "counter",
    "static",
    "css",
    "html",
    "rust",
    "go",
    "testing",
    "deploy",
    "release",
    "notes",
    "year",
    "review",
    "hello",
    "world",
    "small",
    "web",
    "feeds",
    "email",
    "images",
    "fonts",
    "dark",
    "mode",
    "speed",
    "index",
    "search",
    "bots",
    "prefetch",
    "weekly",
    "links",
    "how",
    "why",
]

# Share of rows that are visitor-days: about one visitor per three page views.
VISITOR_SHARE = 0.25
IMAGE_SHARE = 0.03
PREFETCH_SHARE = 0.03
# Someone opening the stylesheet URL itself: Sec-Fetch-Dest "document".
DIRECT_SHARE = 0.005
DNT_SHARE = 0.08
GPC_SHARE = 0.03
PATHS_PER_SITE = 1000
# Hour of day (UTC) weights: quiet at night, busiest in the afternoon.
HOURS = [2, 1.5, 1, 1, 1, 1.5, 3, 5, 7, 8, 8.5, 9, 9, 9.5, 10, 10, 9.5, 9, 8, 7, 6, 5, 4, 3]
# Monday to Sunday.
WEEKDAYS = [1.0, 1.05, 1.05, 1.0, 0.9, 0.6, 0.65]

_COLUMNS = [
    "id",
    "created_at",
    "site",
    "path",
    "referrer",
    "user_agent",
    "verified",
    "headers",
    "kind",
    "resource",
    "referrer_host",
    "browser",
    "os",
    "device",
    "is_bot",
    "bot_reason",
    "prefetch",
    "dnt",
    "gpc",
]


def _cumulative(weights: list[float]) -> list[float]:
    return list(itertools.accumulate(weights))


class Command(BaseCommand):
    help = (
        "Fill the hits table with N realistic synthetic hits, for trying the statistics, "
        "the admin and queries at scale. N counts every row: about three quarters page "
        "views and one quarter visitor-days, over several sites with a long tail of paths, "
        "real user agents (bots and prefetches included), labelled exactly as capture "
        "labels real hits, spread over the last --days days. Loads with COPY on "
        "PostgreSQL, bulk INSERTs elsewhere, one transaction per batch: stop it at any "
        "time and the finished batches stay. Refuses to run with DEBUG off unless --yes "
        "is given, so a production database is not filled with fake statistics by mistake."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--hits",
            type=int,
            required=True,
            help="Rows to create, views and visitor-days together (required).",
        )
        parser.add_argument("--sites", type=int, default=20, help="Sites (default: 20).")
        parser.add_argument(
            "--days", type=int, default=365, help="Spread over the last N days (default: 365)."
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=1,
            help="Random seed; the same seed makes the same sites, paths and user agents "
            "(default: 1).",
        )
        parser.add_argument(
            "--batch", type=int, default=50000, help="Rows per transaction (default: 50000)."
        )
        parser.add_argument(
            "--yes",
            action="store_true",
            help="Run even with DEBUG off: the hits are fake and count in every statistic.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        total, batch = options["hits"], options["batch"]
        if min(total, options["sites"], options["days"], batch) < 1:
            raise CommandError("--hits, --sites, --days and --batch must be at least 1.")
        if not settings.DEBUG and not options["yes"]:
            raise CommandError(
                "DEBUG is off: this may be a production database, and fake hits would count "
                "in its statistics. Pass --yes to seed it all the same."
            )
        alias = router.db_for_write(HeaderHit) or "default"
        generator = Generator(options["seed"], options["sites"], options["days"])
        load = _copy if connections[alias].vendor == "postgresql" else _bulk_create
        done = 0
        started = time.monotonic()
        try:
            while done < total:
                size = min(batch, total - done)
                with transaction.atomic(using=alias):
                    load(alias, generator.rows(size))
                done += size
                elapsed = time.monotonic() - started
                self.stdout.write(
                    f"Seeded {done:,} of {total:,} hits ({done / max(elapsed, 1e-9):,.0f} rows/s)"
                )
        except KeyboardInterrupt:
            raise CommandError(
                f"Interrupted: {done:,} hits were seeded and stay; the batch in progress "
                "was rolled back."
            ) from None
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {done:,} hits on database {alias!r} in {elapsed:.1f} s "
                f"({done / max(elapsed, 1e-9):,.0f} rows/s)."
            )
        )


def _copy(alias: str, rows: Iterator[tuple[Any, ...]]) -> None:
    connection = connections[alias]
    connection.ensure_connection()
    quote = connection.ops.quote_name
    columns = ", ".join(quote(HeaderHit._meta.get_field(name).column) for name in _COLUMNS)
    sql = f"COPY {quote(HeaderHit._meta.db_table)} ({columns}) FROM STDIN"
    # The psycopg 3 connection itself: Django's cursor wrapper has no copy().
    with connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def _bulk_create(alias: str, rows: Iterator[tuple[Any, ...]]) -> None:
    objects = [
        HeaderHit(**dict(zip(_COLUMNS, row, strict=True)) | {"headers": json.loads(row[7])})
        for row in rows
    ]
    HeaderHit.objects.using(alias).bulk_create(objects, batch_size=1000)


class Generator:
    """Rows in the order of _COLUMNS, with headers as JSON text."""

    def __init__(self, seed: int, sites: int, days: int) -> None:
        self.random = random.Random(seed)
        self.days = days
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        self.sites = self._sites(sites)
        # Zipf-like: the k-th most popular site or page is 1/k as popular as the first.
        self.site_weights = _cumulative([1 / (k + 1) for k in range(sites)])
        self.paths = [self._paths(PATHS_PER_SITE) for _ in self.sites]
        self.path_weights = _cumulative([1 / (k + 1) ** 1.1 for k in range(PATHS_PER_SITE)])
        self.agent_weights = _cumulative([weight for weight, *_ in USER_AGENTS])
        self.language_weights = _cumulative([weight for weight, _ in LANGUAGES])
        self.referrer_weights = _cumulative([weight for weight, _ in REFERRERS])
        self.referrer_hosts = [capture.referrer_host(url) for _, url in REFERRERS]
        self.hour_weights = _cumulative(HOURS)
        today = self.now.replace(hour=0, minute=0, second=0)
        self.midnights = [today - dt.timedelta(days=ago) for ago in range(days)]
        # Busier on weekdays, and growing: a year ago a third fewer hits than now.
        self.day_weights = _cumulative(
            [
                WEEKDAYS[midnight.weekday()] * (1 - 0.33 * ago / days)
                for ago, midnight in enumerate(self.midnights)
            ]
        )
        self.signals = conf.PRIVACY_SIGNALS != "honour"
        # Labels depend on the user agent and on headers drawn from a few values:
        # computed once per combination, never per row.
        self.templates: dict[tuple[Any, ...], tuple[str, tuple[Any, ...]]] = {}

    def _sites(self, count: int) -> list[str]:
        names = [f"{word}.example" for word in _SITE_WORDS]
        names += [f"{a}-{b}.example" for a in _SITE_WORDS for b in _SITE_WORDS if a != b]
        names += [f"site{n}.example" for n in range(len(names), count)]
        return self.random.sample(names[: max(count, len(_SITE_WORDS))], count)

    def _paths(self, count: int) -> list[str]:
        paths = ["/"]
        seen = {"/"}
        while len(paths) < count:
            section = self.random.choice(_PATH_SECTIONS)
            slug = "-".join(self.random.sample(_SLUG_WORDS, self.random.randint(1, 4)))
            path = f"/{section}/{slug}/"
            if path not in seen:
                seen.add(path)
                paths.append(path)
        return paths

    def _pick(self, cumulative: list[float]) -> int:
        return bisect.bisect(cumulative, self.random.random() * cumulative[-1])

    def _when(self) -> dt.datetime:
        earliest = self.now - dt.timedelta(days=self.days)
        while True:
            midnight = self.midnights[self._pick(self.day_weights)]
            seconds = self._pick(self.hour_weights) * 3600 + self.random.randrange(3600)
            when = midnight + dt.timedelta(seconds=seconds)
            # Today's later hours and the first day's earlier ones are outside the window.
            if earliest < when <= self.now:
                return when

    def _template(self, key: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
        template = self.templates.get(key)
        if template is None:
            template = self.templates[key] = self._make_template(*key)
        return template

    def _make_template(
        self,
        agent: int,
        language: int,
        resource: str,
        purpose: str,
        direct: bool,
        dnt: bool,
        gpc: bool,
    ) -> tuple[str, tuple[Any, ...]]:
        _, client, platform, user_agent = USER_AGENTS[agent]
        headers = {"User-Agent": user_agent}
        image = resource == capture.IMAGE
        if client == CRAWLER:
            headers["Accept"] = "*/*"
            headers["Accept-Encoding"] = "gzip, deflate"
        else:
            headers["Accept"] = (
                "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"
                if image
                else "text/css,*/*;q=0.1"
            )
            headers["Accept-Language"] = LANGUAGES[language][1]
            headers["Accept-Encoding"] = "gzip, deflate, br, zstd"
        if client == CHROMIUM:
            headers["Sec-CH-UA"] = '"Chromium";v="124", "Not-A.Brand";v="99"'
            headers["Sec-CH-UA-Mobile"] = "?1" if "Mobile" in user_agent else "?0"
            headers["Sec-CH-UA-Platform"] = platform
        if client in (CHROMIUM, FIREFOX, SAFARI):
            headers["Sec-Fetch-Dest"] = "document" if direct else ("image" if image else "style")
            headers["Sec-Fetch-Mode"] = "navigate" if direct else "no-cors"
            headers["Sec-Fetch-Site"] = "none" if direct else "same-origin"
        if purpose:
            headers["Sec-Purpose"] = purpose
        if dnt:
            headers["DNT"] = "1"
        if gpc:
            headers["Sec-GPC"] = "1"
        labels = capture.labels_for(user_agent, headers, resource)
        # JSON of the headers with the Referer left open, which is the one value
        # that changes per row and never changes a label.
        prefix = json.dumps(headers)[:-1] + ', "Referer": '
        return prefix, (
            user_agent,
            labels.browser,
            labels.os,
            labels.device,
            labels.is_bot,
            labels.bot_reason,
            labels.prefetch,
            labels.dnt,
            labels.gpc,
        )

    def rows(self, count: int) -> Iterator[tuple[Any, ...]]:
        rnd = self.random.random
        for _ in range(count):
            site_index = self._pick(self.site_weights)
            site = self.sites[site_index]
            page = self.paths[site_index][self._pick(self.path_weights)]
            visitor = rnd() < VISITOR_SHARE
            agent = self._pick(self.agent_weights)
            client = USER_AGENTS[agent][1]
            human = client != CRAWLER
            resource = capture.IMAGE if rnd() < IMAGE_SHARE else capture.STYLESHEET
            purpose = ""
            if human and client == CHROMIUM and rnd() < PREFETCH_SHARE:
                purpose = "prefetch;prerender" if rnd() < 0.7 else "prefetch"
            key = (
                agent,
                self._pick(self.language_weights) if human else 0,
                resource,
                purpose,
                human and rnd() < DIRECT_SHARE,
                self.signals and human and rnd() < DNT_SHARE,
                self.signals and human and rnd() < GPC_SHARE,
            )
            prefix, (user_agent, *labels) = self._template(key)
            if visitor:
                path = referrer = host = ""
            else:
                path = page
                chosen = self._pick(self.referrer_weights)
                referrer, host = REFERRERS[chosen][1], self.referrer_hosts[chosen]
            # The beacon's own Referer is the page that loaded it.
            headers = f"{prefix}{json.dumps(f'https://{site}{page}')}}}"
            yield (
                keys.new_key(),
                self._when(),
                site,
                path,
                referrer,
                user_agent,
                True,
                headers,
                capture.VISITOR if visitor else capture.VIEW,
                resource,
                host,
                *labels,
            )
