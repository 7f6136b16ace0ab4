"""Headers are stored by allowlist (issue 11, finding 2): a value is kept only
for a header known to carry no identifier or secret; the others by name."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client, override_settings

from lambdactr_django.beacon.capture import WITHHELD, capture, stored_headers
from lambdactr_django.models import HeaderHit
from tests.beacon.test_capture import PAGE, URL, beacon

# What proxies and login gateways add, each found stored verbatim before.
LEAKS = {
    "Fly-Client-IP": "198.51.100.21",
    # Under the canonical names the hit is stored with.
    "X-Azure-Clientip": "198.51.100.22",
    "Cloudfront-Viewer-Address": "198.51.100.23:46532",
    "X-Vercel-Forwarded-For": "198.51.100.24",
    "Via": "1.1 proxy-198-51-100-25.example",
    "Proxy-Client-IP": "198.51.100.26",
    "X-Forwarded-Client-Cert": "By=spiffe://leak-cert;Hash=abc",
    "X-Forwarded-Access-Token": "leak-token-1",
    "CF-Access-Jwt-Assertion": "leak-token-2",
    "X-Goog-Iap-Jwt-Assertion": "leak-token-3",
    "X-Amzn-Oidc-Accesstoken": "leak-token-4",
    "X-Ms-Token-Aad-Id-Token": "leak-token-5",
    "X-Forwarded-Email": "leak@example.com",
    "X-Api-Key": "leak-key",
    "If-None-Match": '"leak-etag"',
}
BROWSER = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0",
    "Accept": "text/css,*/*;q=0.1",
    "Accept-Language": "fr-CH, fr;q=0.9",
    "Accept-Encoding": "gzip, br",
    "Sec-Fetch-Dest": "style",
    "Sec-Fetch-Mode": "no-cors",
    "Sec-Fetch-Site": "same-origin",
    "Sec-CH-UA": '"Chromium";v="130"',
    "Sec-CH-UA-Platform": '"Linux"',
    "Sec-Purpose": "prefetch",
    "DNT": "1",
    "Sec-GPC": "1",
    "Priority": "u=2",
    "Save-Data": "on",
    "Cache-Control": "no-cache",
}


def test_only_allowlisted_values_are_kept_the_rest_by_name() -> None:
    headers = stored_headers(beacon({**BROWSER, **LEAKS}))

    assert headers == {**BROWSER, **dict.fromkeys(LEAKS, WITHHELD)}


@pytest.mark.django_db
def test_no_proxy_address_or_login_token_reaches_the_database(
    stored_text: Callable[[], str],
) -> None:
    response = Client().get(URL, headers={**LEAKS, "referer": PAGE})

    assert response.status_code == 200
    assert set(HeaderHit.objects.get().headers) == {"Referer", *LEAKS}
    row = stored_text()
    for secret in ("198.51.100.", "leak"):
        assert secret not in row


def test_the_bot_rules_still_see_what_they_read() -> None:
    hit = capture(beacon(BROWSER))

    assert (hit.is_bot, hit.prefetch, hit.dnt, hit.gpc) == (False, "prefetch", True, True)


@override_settings(LAMBDACTR_STORED_HEADERS=["x-theme"])
def test_a_setting_adds_headers_to_the_allowlist() -> None:
    headers = stored_headers(beacon({"X-Theme": "dark", "X-Other": "kept by name"}))

    assert headers == {"X-Theme": "dark", "X-Other": WITHHELD}
