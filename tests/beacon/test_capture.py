from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import signing
from django.test import Client, RequestFactory
from django.test.utils import override_settings

from lambdactr_django.beacon.capture import (
    MAX_HEADER_NAME_LENGTH,
    WITHHELD,
    canonical_header_name,
    capture,
    is_own_site,
    stored_headers,
)
from lambdactr_django.beacon.clean import clean_referrer, clean_text, page_from_url
from lambdactr_django.beacon.signing import SIGNING_SALT, read_token, sign_page
from lambdactr_django.hits import (
    MAX_PATH_LENGTH,
    MAX_REFERRER_LENGTH,
    MAX_SITE_LENGTH,
    MAX_USER_AGENT_LENGTH,
    Page,
)
from lambdactr_django.models import HeaderHit

URL = "/ctr/s.css"
PAGE = "https://blog.example/posts/1/"

rf = RequestFactory()


def beacon(headers: dict[str, str] | None = None, **meta: Any) -> Any:
    return rf.get(URL, headers=headers, **meta)


# Header names


def test_headers_are_stored_under_their_canonical_names() -> None:
    request = beacon(
        {
            "user-agent": "Mozilla/5.0",
            "accept-language": "fr-CH, fr;q=0.9",
            "sec-fetch-dest": "style",
            "dnt": "1",
            "sec-gpc": "1",
            "sec-ch-ua-mobile": "?0",
            "sec-ch-ua": '"Chromium";v="130"',
        }
    )

    assert stored_headers(request) == {
        "User-Agent": "Mozilla/5.0",
        "Accept-Language": "fr-CH, fr;q=0.9",
        "Sec-Fetch-Dest": "style",
        "DNT": "1",
        "Sec-GPC": "1",
        "Sec-CH-UA-Mobile": "?0",
        "Sec-CH-UA": '"Chromium";v="130"',
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("user-agent", "User-Agent"),
        ("USER_AGENT", "User-Agent"),
        ("Dnt", "DNT"),
        ("sec-ch-ua-platform", "Sec-CH-UA-Platform"),
        ("cf-connecting-ipv6", "CF-Connecting-IPv6"),
        ("x-real-ip", "X-Real-IP"),
        ("te", "TE"),
    ],
)
def test_canonical_header_name(name: str, expected: str) -> None:
    assert canonical_header_name(name) == expected


def test_body_headers_are_dropped_when_no_body_was_announced() -> None:
    # wsgiref (runserver) invents a Content-Type for every request.
    request = beacon({"user-agent": "UA"}, CONTENT_TYPE="text/plain")

    assert stored_headers(request) == {"User-Agent": "UA"}


def test_body_headers_are_kept_when_a_body_was_announced() -> None:
    request = beacon({"user-agent": "UA"}, CONTENT_TYPE="text/plain", CONTENT_LENGTH="5")

    assert stored_headers(request) == {
        "User-Agent": "UA",
        "Content-Type": "text/plain",
        "Content-Length": "5",
    }


# Secrets are never stored

SECRETS = {
    "cookie": "sessionid=secret-1",
    "cookie2": "$Version=1; secret-2",
    "authorization": "Bearer secret-3",
    "proxy-authorization": "Basic secret-4",
    "x-csrftoken": "secret-5",
    "x-xsrf-token": "secret-6",
    "x-csrf-token": "secret-7",
    "csrf-protection": "secret-8",
}

EVERY_OPT_IN = {
    "LAMBDACTR_STORE_CLIENT_IP": True,
    "LAMBDACTR_REDACTED_HEADERS": [],
    "LAMBDACTR_MAX_HEADERS": 1000,
    "LAMBDACTR_MAX_HEADER_LENGTH": 100_000,
    "LAMBDACTR_REFERRER_QUERY_ALLOWLIST": ["*"],
}


@pytest.mark.parametrize(
    "opt_in",
    [{}, pytest.param(EVERY_OPT_IN, marks=pytest.mark.stores_client_ip)],
    ids=["defaults", "every-opt-in"],
)
def test_credentials_and_csrf_tokens_are_never_captured(opt_in: dict[str, Any]) -> None:
    request = beacon({**SECRETS, "user-agent": "UA"}, REMOTE_ADDR="192.0.2.1")
    assert request.headers["Authorization"] == "Bearer secret-3"

    with override_settings(**opt_in):
        headers = stored_headers(request)

    expected = {"User-Agent": "UA"}
    if opt_in:
        expected["Remote-Addr"] = "192.0.2.1"
    assert headers == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    "opt_in",
    [{}, pytest.param(EVERY_OPT_IN, marks=pytest.mark.stores_client_ip)],
    ids=["defaults", "every-opt-in"],
)
def test_credentials_and_csrf_tokens_never_reach_the_database(
    opt_in: dict[str, Any], stored_text: Callable[[], str], beacon_client: Callable[..., Client]
) -> None:
    with override_settings(**opt_in):
        response = beacon_client().get(
            URL, headers={**SECRETS, "referer": PAGE, "user-agent": "UA"}
        )

    assert response.status_code == 200
    assert HeaderHit.objects.count() == 1
    assert "secret-" not in stored_text()


@override_settings(CSRF_HEADER_NAME="HTTP_X_ANTI_FORGERY", LAMBDACTR_STORE_CLIENT_IP=True)
def test_the_projects_own_csrf_header_is_never_stored() -> None:
    request = beacon({"x-anti-forgery": "secret", "user-agent": "UA"})

    assert stored_headers(request) == {"User-Agent": "UA", "Remote-Addr": "127.0.0.1"}


@override_settings(LAMBDACTR_REDACTED_HEADERS=[])
def test_redacted_headers_cannot_unprotect_credentials() -> None:
    request = beacon({"cookie": "a=b", "authorization": "Basic x", "user-agent": "UA"})

    assert stored_headers(request) == {"User-Agent": "UA"}


# Client addresses

ADDRESSES = {
    "X-Forwarded-For": "203.0.113.7, 198.51.100.1",
    "X-Real-IP": "203.0.113.8",
    "Forwarded": "for=203.0.113.9;proto=https",
    "CF-Connecting-IP": "203.0.113.10",
    "True-Client-IP": "203.0.113.11",
    "X-Client-IP": "203.0.113.12",
}


def test_client_addresses_are_not_stored_by_default() -> None:
    request = beacon({**ADDRESSES, "user-agent": "UA"}, REMOTE_ADDR="203.0.113.99")

    # Their names tell a proxy was there; the addresses are not kept.
    assert stored_headers(request) == {
        **dict.fromkeys(ADDRESSES, WITHHELD),
        "User-Agent": "UA",
    }


@override_settings(LAMBDACTR_STORE_CLIENT_IP=True)
def test_client_addresses_are_stored_on_opt_in() -> None:
    request = beacon({**ADDRESSES, "user-agent": "UA"}, REMOTE_ADDR="203.0.113.99")

    assert stored_headers(request) == {
        **ADDRESSES,
        "User-Agent": "UA",
        "Remote-Addr": "203.0.113.99",
    }


@pytest.mark.django_db
def test_no_address_reaches_the_database_by_default(
    stored_text: Callable[[], str], beacon_client: Callable[..., Client]
) -> None:
    beacon_client(REMOTE_ADDR="203.0.113.99").get(URL, headers={**ADDRESSES, "referer": PAGE})

    assert HeaderHit.objects.get().headers == {
        "Referer": PAGE,
        **dict.fromkeys(ADDRESSES, WITHHELD),
    }
    row = stored_text()
    assert "203.0.113." not in row


@pytest.mark.django_db
@override_settings(LAMBDACTR_STORE_CLIENT_IP=True)
def test_addresses_reach_the_database_on_opt_in(beacon_client: Callable[..., Client]) -> None:
    beacon_client(REMOTE_ADDR="203.0.113.99").get(URL, headers={"x-real-ip": "203.0.113.8"})

    assert HeaderHit.objects.get().headers == {
        "X-Real-IP": "203.0.113.8",
        "Remote-Addr": "203.0.113.99",
    }


# Redaction


@override_settings(LAMBDACTR_REDACTED_HEADERS=["accept-language", "SEC-CH-UA"])
def test_redacted_headers_are_not_stored_whatever_their_case() -> None:
    request = beacon(
        {
            "accept-language": "fr-CH",
            "sec-ch-ua": '"Chromium";v="130"',
            "sec-ch-ua-mobile": "?0",
            "user-agent": "UA",
        }
    )

    assert stored_headers(request) == {"Sec-CH-UA-Mobile": "?0", "User-Agent": "UA"}


@pytest.mark.django_db
@override_settings(LAMBDACTR_REDACTED_HEADERS=["User-Agent"])
def test_redacted_user_agent_is_not_stored_in_any_column(
    stored_text: Callable[[], str], beacon_client: Callable[..., Client]
) -> None:
    beacon_client().get(URL, headers={"user-agent": "Secret Browser/1.0", "referer": PAGE})

    hit = HeaderHit.objects.get()
    assert hit.user_agent == ""
    assert hit.headers == {"Referer": PAGE}
    assert "Secret Browser" not in stored_text()


# Referrers


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://news.example/a?id=7&utm_source=hn&utm_medium=social&q=me#top",
            "https://news.example/a?utm_source=hn&utm_medium=social",
        ),
        ("https://news.example/a?id=7", "https://news.example/a"),
        ("https://news.example/a#section", "https://news.example/a"),
        ("https://alice:hunter2@news.example/a", "https://news.example/a"),
        ("HTTPS://News.Example:8443/Path", "https://news.example:8443/Path"),
        ("http://[::1]:8000/a?id=1", "http://[::1]:8000/a"),
        ("https://[2001:DB8::1]/a", "https://[2001:db8::1]/a"),
        ("https://news.example/a?UTM_Campaign=x", "https://news.example/a?UTM_Campaign=x"),
        ("https://[::1", ""),
        ("https://news.example:99999/", ""),
    ],
)
def test_clean_referrer(url: str, expected: str) -> None:
    assert clean_referrer(url) == expected


@override_settings(LAMBDACTR_REFERRER_QUERY_ALLOWLIST=["ref", "utm_source"])
def test_referrer_query_allowlist_is_honoured() -> None:
    url = "https://news.example/a?ref=hn&utm_source=x&utm_medium=y&id=1"

    assert clean_referrer(url) == "https://news.example/a?ref=hn&utm_source=x"


@override_settings(LAMBDACTR_REFERRER_QUERY_ALLOWLIST=[])
def test_empty_referrer_query_allowlist_strips_every_parameter() -> None:
    assert clean_referrer("https://news.example/a?utm_source=hn") == "https://news.example/a"


def test_stored_referer_header_is_cleaned() -> None:
    request = beacon({"referer": "https://bob:pw@blog.example/a/?token=secret&utm_source=x#frag"})

    assert stored_headers(request) == {"Referer": "https://blog.example/a/?utm_source=x"}


@pytest.mark.django_db
@override_settings(LAMBDACTR_REFERRER_QUERY_ALLOWLIST=[])
def test_referer_secrets_do_not_reach_the_database(
    stored_text: Callable[[], str], beacon_client: Callable[..., Client]
) -> None:
    referer = "https://bob:pw-secret@blog.example/a/?token=tok-secret&utm_source=x#frag-secret"

    beacon_client().get(URL, headers={"referer": referer})

    assert HeaderHit.objects.get().headers == {"Referer": "https://blog.example/a/"}
    row = stored_text()
    for secret in ("pw-secret", "tok-secret", "frag-secret", "utm_source"):
        assert secret not in row


# Caps


@override_settings(LAMBDACTR_MAX_HEADER_LENGTH=10)
def test_header_values_are_cut_to_the_maximum_length() -> None:
    request = beacon({"user-agent": "Mozilla/5.0 (X11)", "accept": "text/css,*/*;q=0.1"})

    assert stored_headers(request) == {"User-Agent": "Mozilla/5.", "Accept": "text/css,*"}


@override_settings(LAMBDACTR_MAX_HEADERS=3)
def test_number_of_headers_is_capped() -> None:
    request = beacon({f"x-custom-{n}": str(n) for n in range(10)})

    assert stored_headers(request) == dict.fromkeys(
        ["X-Custom-0", "X-Custom-1", "X-Custom-2"], WITHHELD
    )


@override_settings(LAMBDACTR_MAX_HEADERS=2, LAMBDACTR_STORE_CLIENT_IP=True)
def test_remote_address_counts_towards_the_header_cap() -> None:
    assert stored_headers(beacon({"dnt": "1", "accept": "2"})) == {"DNT": "1", "Accept": "2"}
    assert stored_headers(beacon({"dnt": "1"})) == {"DNT": "1", "Remote-Addr": "127.0.0.1"}


def test_overlong_header_names_are_skipped() -> None:
    long_name = "x-" + "a" * MAX_HEADER_NAME_LENGTH

    assert stored_headers(beacon({long_name: "1", "x-b": "2"})) == {"X-B": WITHHELD}


def test_path_from_a_url_is_capped() -> None:
    page = page_from_url("https://blog.example/" + "a" * 5000)

    assert page.path == "/" + "a" * (MAX_PATH_LENGTH - 1)


@override_settings(LAMBDACTR_MAX_HEADER_LENGTH=10_000)
def test_user_agent_column_is_capped() -> None:
    hit = capture(beacon({"user-agent": "u" * 5000}))

    assert hit.user_agent == "u" * MAX_USER_AGENT_LENGTH
    assert hit.headers["User-Agent"] == "u" * 5000


def test_signed_page_is_capped() -> None:
    token = sign_page(Page("s" * 1000, "/" + "p" * 3000, "https://r.example/" + "r" * 3000))

    page = read_token(token)

    assert page is not None
    assert page.site == "s" * MAX_SITE_LENGTH
    assert page.path == "/" + "p" * (MAX_PATH_LENGTH - 1)
    assert page.referrer == ("https://r.example/" + "r" * 3000)[:MAX_REFERRER_LENGTH]


def test_clean_referrer_is_capped() -> None:
    cleaned = clean_referrer("https://news.example/" + "r" * 5000)

    assert cleaned == ("https://news.example/" + "r" * 5000)[:MAX_REFERRER_LENGTH]


@pytest.mark.django_db
@override_settings(LAMBDACTR_MAX_HEADER_LENGTH=10_000)
@override_settings(LAMBDACTR_SITES=["*"])
def test_longest_values_fit_the_columns(beacon_client: Callable[..., Client]) -> None:
    # On PostgreSQL a value longer than its column is an error and the hit is lost.
    token = sign_page(Page("s" * 1000, "/" + "p" * 3000, "https://r.example/" + "r" * 3000))

    beacon_client().get(URL, {"t": token}, headers={"user-agent": "u" * 5000})

    hit = HeaderHit.objects.get()
    assert len(hit.site) == MAX_SITE_LENGTH
    assert len(hit.path) == MAX_PATH_LENGTH
    assert len(hit.referrer) == MAX_REFERRER_LENGTH
    assert len(hit.user_agent) == MAX_USER_AGENT_LENGTH
    assert hit.verified is True


@pytest.mark.django_db
@override_settings(LAMBDACTR_MAX_HEADER_LENGTH=10_000)
def test_longest_referer_fits_the_columns(beacon_client: Callable[..., Client]) -> None:
    beacon_client().get(URL, headers={"referer": "https://blog.example/" + "a" * 5000})

    hit = HeaderHit.objects.get()
    assert hit.site == "blog.example"
    # The Referer is cut to a referrer's length before the path is read from it.
    assert hit.path == "/" + "a" * (MAX_REFERRER_LENGTH - len("https://blog.example/"))
    assert hit.headers["Referer"] == ("https://blog.example/" + "a" * 5000)[:MAX_REFERRER_LENGTH]


# Control characters and encodings: PostgreSQL refuses NUL in text and jsonb


def test_clean_text_removes_control_characters_but_keeps_tabs() -> None:
    assert clean_text("a\x00b\x01c\nd\re\x1bf\x7fg\th", 100) == "abcdefg\th"


def test_clean_text_replaces_lone_surrogates() -> None:
    assert clean_text("a\ud800b", 100) == "a?b"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "verified"), [("?t=abc%00def", False), ("?utm_source=%00", True), ("?%00=1", True)]
)
def test_nul_in_the_query_string_is_stored_fine(
    query: str, verified: bool, beacon_client: Callable[..., Client]
) -> None:
    response = beacon_client().get(URL + query, headers={"referer": PAGE})

    assert response.status_code == 200
    hit = HeaderHit.objects.get()
    assert (hit.site, hit.path, hit.verified) == ("blog.example", "/posts/1/", verified)


@pytest.mark.django_db
def test_nul_in_the_referer_path_is_stored_without_it(beacon_client: Callable[..., Client]) -> None:
    response = beacon_client().get(URL, headers={"referer": "https://blog.example/a%00b/%01c"})

    assert response.status_code == 200
    hit = HeaderHit.objects.get()
    assert hit.path == "/ab/c"
    assert hit.headers == {"Referer": "https://blog.example/a%00b/%01c"}


@pytest.mark.django_db
def test_nul_in_header_values_is_stored_without_it(beacon_client: Callable[..., Client]) -> None:
    response = beacon_client().get(
        URL,
        headers={
            "user-agent": "Mozilla\x00/5.0\x07",
            "referer": "https://blog.example/a\x00b/",
            "accept": "tab\tkept\x00",
        },
    )

    assert response.status_code == 200
    hit = HeaderHit.objects.get()
    assert hit.user_agent == "Mozilla/5.0"
    assert hit.path == "/ab/"
    assert hit.headers == {
        "User-Agent": "Mozilla/5.0",
        "Referer": "https://blog.example/ab/",
        "Accept": "tab\tkept",
    }


@pytest.mark.django_db
def test_nul_in_a_signed_page_is_stored_without_it(beacon_client: Callable[..., Client]) -> None:
    token = sign_page(Page("blog.example\x00", "/a\x00b/", "https://news.example/\x00"))

    beacon_client().get(URL, {"t": token})

    hit = HeaderHit.objects.get()
    assert (hit.site, hit.path, hit.referrer) == ("blog.example", "/ab/", "https://news.example/")
    assert hit.verified is True


@pytest.mark.django_db
def test_bytes_that_are_not_utf8_become_replacement_characters(
    beacon_client: Callable[..., Client],
) -> None:
    # WSGI hands header bytes over as latin-1 text.
    raw = b"Mozilla/5.0 \xff\xfe bad".decode("latin-1")

    response = beacon_client().get(URL, headers={"user-agent": raw, "referer": PAGE})

    assert response.status_code == 200
    hit = HeaderHit.objects.get()
    assert hit.user_agent == "Mozilla/5.0 \ufffd\ufffd bad"
    assert hit.headers["User-Agent"] == "Mozilla/5.0 \ufffd\ufffd bad"


@pytest.mark.django_db
def test_utf8_user_agent_arriving_as_latin1_is_repaired(
    beacon_client: Callable[..., Client],
) -> None:
    user_agent = "Mozilla/5.0 Navigateur-Café ☃ 日本"
    mojibake = user_agent.encode("utf-8").decode("latin-1")

    beacon_client().get(URL, headers={"user-agent": mojibake, "referer": PAGE})

    hit = HeaderHit.objects.get()
    assert hit.user_agent == user_agent
    assert hit.headers["User-Agent"] == user_agent


def test_utf8_referer_path_is_decoded() -> None:
    hit = capture(beacon({"referer": "https://blog.example/caf%C3%A9/%FF/"}))

    assert hit.path == "/café/\ufffd/"


# Pages and tokens


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://Blog.Example/posts/1/?a=1#f", Page("blog.example", "/posts/1/")),
        ("http://localhost:8000/", Page("localhost:8000", "/")),
        # As the Host header spells it, so signed and unsigned hits name the same site.
        ("http://[::1]:8000/a/", Page("[::1]:8000", "/a/")),
        ("https://blog.example", Page("blog.example", "")),
        ("/posts/1/", Page("", "/posts/1/")),
        ("", Page()),
        ("https://blog.example:notaport/", Page()),
    ],
)
def test_page_from_url(url: str, expected: Page) -> None:
    assert page_from_url(url) == expected


def test_token_round_trip() -> None:
    page = Page("blog.example", "/posts/1/", "https://news.example/")

    assert read_token(sign_page(page)) == page


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: "", id="empty"),
        pytest.param(lambda: "garbage", id="garbage"),
        pytest.param(lambda: sign_page(Page("a", "/", ""))[:-1], id="truncated"),
        # Signed with the app's own algorithm, so only the named flaw makes them bad.
        pytest.param(
            lambda: signing.TimestampSigner(salt=SIGNING_SALT).sign_object(["a", "/", ""]),
            id="timestamped",
        ),
        pytest.param(
            lambda: signing.Signer(salt="other").sign_object(["a", "/", ""]), id="other-salt"
        ),
        pytest.param(
            lambda: signing.Signer(salt=SIGNING_SALT).sign_object({"site": "a"}), id="not-a-list"
        ),
        pytest.param(
            lambda: signing.Signer(salt=SIGNING_SALT).sign_object(["a", "/"]), id="too-short"
        ),
        pytest.param(
            lambda: signing.Signer(salt=SIGNING_SALT).sign_object(["a", "/", 3]), id="not-strings"
        ),
        pytest.param(lambda: "eJ" + "A" * 9000, id="too-long"),
    ],
)
def test_bad_tokens_are_refused(token: Callable[[], str]) -> None:
    assert read_token(token()) is None


def test_token_from_another_secret_key_is_refused() -> None:
    with override_settings(SECRET_KEY="somebody else's key"):
        token = sign_page(Page("blog.example", "/", ""))

    assert read_token(token) is None


def test_capture_reads_the_token() -> None:
    token = sign_page(Page("blog.example", "/posts/1/", "https://news.example/"))

    hit = capture(rf.get(URL, {"t": token}, headers={"referer": "https://other.example/x/"}))

    assert (hit.site, hit.path, hit.referrer, hit.verified) == (
        "blog.example",
        "/posts/1/",
        "https://news.example/",
        True,
    )


def test_capture_falls_back_to_the_referer_on_a_bad_token() -> None:
    hit = capture(rf.get(URL, {"t": "garbage"}, headers={"referer": "https://other.example/x/"}))

    assert (hit.site, hit.path, hit.referrer, hit.verified) == ("other.example", "/x/", "", False)


def test_whether_a_site_is_own_follows_a_settings_change() -> None:
    # Cached per site: a changed LAMBDACTR_SITES or ALLOWED_HOSTS must be seen at once.
    with override_settings(LAMBDACTR_SITES=["blog.example"]):
        assert is_own_site("blog.example", signed=False)
    with override_settings(LAMBDACTR_SITES=["shop.example"]):
        assert not is_own_site("blog.example", signed=False)
    with override_settings(ALLOWED_HOSTS=["blog.example"]):
        assert is_own_site("blog.example", signed=False)
    with override_settings(ALLOWED_HOSTS=["shop.example"]):
        assert not is_own_site("blog.example", signed=False)


def test_the_header_rules_follow_a_setting_changed_after_a_hit() -> None:
    # The rules are resolved once per header name, and again once a setting changes.
    request = RequestFactory().get(
        "/ctr/s.css", HTTP_USER_AGENT="UA", HTTP_X_TEAM="blue", HTTP_X_GUARD="secret"
    )
    assert stored_headers(request) == {"User-Agent": "UA", "X-Team": WITHHELD, "X-Guard": WITHHELD}

    with override_settings(LAMBDACTR_STORED_HEADERS=["X-Team"]):
        assert stored_headers(request)["X-Team"] == "blue"
    with override_settings(
        LAMBDACTR_REDACTED_HEADERS=["user-agent"], CSRF_HEADER_NAME="HTTP_X_GUARD"
    ):
        assert stored_headers(request) == {"X-Team": WITHHELD}
    assert stored_headers(request) == {"User-Agent": "UA", "X-Team": WITHHELD, "X-Guard": WITHHELD}


def test_a_cleaned_referrer_follows_the_allowlist_changed_after_a_hit() -> None:
    # Cleaned referrers are kept per URL, and forgotten once a setting changes.
    url = "https://blog.example/a/?utm_source=x&ref=y"
    assert clean_referrer(url) == "https://blog.example/a/?utm_source=x"

    with override_settings(LAMBDACTR_REFERRER_QUERY_ALLOWLIST=["ref"]):
        assert clean_referrer(url) == "https://blog.example/a/?ref=y"
    assert clean_referrer(url) == "https://blog.example/a/?utm_source=x"
