"""Builders shared by the analytics tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from lambdactr_django.hits import Hit
from lambdactr_django.models import HeaderHit

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

# What Chromium sends when it loads <link rel="stylesheet"> from blog.example.
STYLESHEET_HEADERS = {
    "User-Agent": CHROME,
    "Accept": "text/css,*/*;q=0.1",
    "Accept-Language": "en-GB,en;q=0.9",
    "Referer": "http://blog.example/posts/1/",
    "Sec-Fetch-Dest": "style",
    "Sec-Fetch-Mode": "no-cors",
    "Sec-Fetch-Site": "cross-site",
}
IMAGE_HEADERS = {**STYLESHEET_HEADERS, "Accept": "image/*", "Sec-Fetch-Dest": "image"}


def make_hit(when: dt.datetime | None = None, days_ago: int = 0, **fields: Any) -> HeaderHit:
    values: dict[str, Any] = {
        "site": "blog.example",
        "path": "/",
        "user_agent": CHROME,
        "browser": "Chrome",
        "os": "Windows",
        "device": "desktop",
        "kind": "view",
    }
    values.update(fields)
    hit = HeaderHit.objects.create(**values)
    created = when or timezone.now() - dt.timedelta(days=days_ago)
    # created_at has a default, not auto_now_add: set it after the insert all the same,
    # so a test can place a hit at any instant.
    HeaderHit.objects.filter(pk=hit.pk).update(created_at=created)
    hit.created_at = created
    return hit


# Texts a database may spell differently (non-ASCII, quotes, a backslash) and
# flags away from their defaults: stored by two paths, it must read back the same.
AWKWARD_HIT = Hit(
    site="blog.example",
    path="/posts/ünïcode/",
    referrer="https://news.example/?utm_source=x",
    user_agent="Mozilla/5.0 Test",
    verified=False,
    headers={"User-Agent": "Mozilla/5.0 Test", "Accept-Language": "de", "X-Quote": "a\"b'c\\"},
    browser="Firefox",
    device="desktop",
    is_bot=True,
    bot_reason="no-lang",
    dnt=True,
)
