"""The traffic a small technical blog sees: real user agents and languages, referrers,
site and path words, and the shares of each kind of hit, for lambdactr_seed."""

from __future__ import annotations

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

# A visitor's country (a CDN header or GeoIP): most readers from a few countries.
COUNTRIES = [
    (30.0, "US"),
    (9.0, "DE"),
    (8.0, "GB"),
    (6.0, "FR"),
    (5.0, "IN"),
    (4.0, "CA"),
    (4.0, "NL"),
    (3.0, "JP"),
    (3.0, "BR"),
    (3.0, "PL"),
    (2.0, "ES"),
    (2.0, "AU"),
    (2.0, "SE"),
    (1.0, "CH"),
    (1.0, "IT"),
    (1.0, "KR"),
    (16.0, ""),
]

# Landing pages tagged with utm_* (source, medium, campaign): a few campaigns a month.
CAMPAIGNS = [
    (40.0, ("newsletter", "email", "weekly-digest")),
    (20.0, ("newsletter", "email", "launch")),
    (15.0, ("mastodon", "social", "launch")),
    (10.0, ("google", "cpc", "brand")),
    (10.0, ("partner-blog", "referral", "")),
    (5.0, ("podcast", "audio", "episode-42")),
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
# Of the visits, about 45% have a second view (a bounce rate of about 55%).
SECOND_VIEW_SHARE = 0.11
# Hits whose page carries campaign tags.
CAMPAIGN_SHARE = 0.03
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
