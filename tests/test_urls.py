from __future__ import annotations

import pytest
from django.urls import reverse

from lambdactr_django import urls
from lambdactr_django.beacon.signing import TOKEN_PARAMETER

# Words that generic ad-block rules match in resource URLs: a URL containing one
# is blocked for many readers, and their views are lost.
BLOCKED_WORDS = [
    "count",
    "hit",
    "pixel",
    "track",
    "analytic",
    "beacon",
    "collect",
    "stat",
    "metric",
    "pageview",
    "visit",
    "log",
    "ping",
]


# The beacon's URLs, which readers' browsers load. The API's (api_*) are asked
# for by scripts and staff, where no ad-block list stands in the way.
BEACON_PATTERNS = [p for p in urls.urlpatterns if not str(p.name).startswith("api_")]


@pytest.mark.parametrize("pattern", BEACON_PATTERNS, ids=lambda p: p.name)
def test_url_avoids_words_ad_blockers_match(pattern):
    # The prefix is the one README suggests.
    # A pattern with a part of its own (a shared dashboard's key) gets a neutral one.
    kwargs = dict.fromkeys(pattern.pattern.converters, "k") or None
    url = reverse(f"lambdactr:{pattern.name}", kwargs=kwargs)

    assert [word for word in BLOCKED_WORDS if word in url.lower()] == []


def test_token_parameter_avoids_words_ad_blockers_match():
    assert [word for word in BLOCKED_WORDS if word in TOKEN_PARAMETER] == []
