"""One hit's stored size is bounded in bytes, and a cut is marked (issue 11, finding 3)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from hypothesis import given, settings, strategies as st

from lambdactr_django.beacon import bound
from lambdactr_django.beacon.capture import capture
from lambdactr_django.hits import MAX_HIT_BYTES, Hit
from lambdactr_django.models import HeaderHit
from lambdactr_django.store import rows
from tests.hits import STYLESHEET_HEADERS

# U+1F600: four bytes of UTF-8, 12 of JSON escapes (two \\uXXXX).
FAT = "\U0001f600" * 1024


def as_wsgi(text: str) -> str:
    # How a WSGI server hands over the UTF-8 bytes a browser sent.
    return text.encode().decode("latin-1")


def fat_meta() -> dict[str, str]:
    # The biggest request gunicorn lets through, with values the allowlist keeps.
    meta = {f"HTTP_SEC_CH_FAT_{n}": as_wsgi(FAT) for n in range(47)}
    meta["HTTP_USER_AGENT"] = as_wsgi("Mozilla/5.0 " + FAT)
    meta["HTTP_REFERER"] = as_wsgi("https://blog.example/" + FAT)
    meta["HTTP_ACCEPT_LANGUAGE"] = "en"
    return meta


def test_a_fat_hit_is_cut_to_the_bound_and_says_so() -> None:
    hit = capture(RequestFactory().get("/ctr/s.css", **fat_meta()))

    line = rows.lines([rows.new_record(hit)])
    assert len(line) <= MAX_HIT_BYTES
    note = hit.headers[bound.TRUNCATED_HEADER]
    assert note.startswith(f"cut to {MAX_HIT_BYTES} bytes: ")
    assert "user_agent" in note
    assert "header values" in note
    assert hit.user_agent.startswith("Mozilla/5.0 \U0001f600")


def test_a_thin_hit_is_not_touched() -> None:
    request = RequestFactory().get(
        "/ctr/s.css", HTTP_USER_AGENT="Mozilla/5.0", HTTP_REFERER="https://blog.example/a/"
    )

    hit = capture(request)

    assert bound.TRUNCATED_HEADER not in hit.headers
    assert hit.headers["User-Agent"] == "Mozilla/5.0"


def test_a_client_cannot_forge_the_mark() -> None:
    request = RequestFactory().get("/ctr/s.css", HTTP_LAMBDACTR_TRUNCATED="cut to nothing")

    assert bound.TRUNCATED_HEADER not in capture(request).headers


@pytest.mark.parametrize("text", ["a" * 5000, "\U0001f600" * 5000, "é" * 5000])
def test_cut_text_keeps_the_longest_start_that_fits(text: str) -> None:
    cut = bound.cut_text(text, 1000)

    assert bound.encoded_size(cut) <= 1000
    assert bound.encoded_size(text[: len(cut) + 1]) > 1000 or len(cut) == len(text)
    assert text.startswith(cut)


@pytest.mark.django_db
def test_the_stored_row_is_within_the_bound() -> None:
    response = Client().get("/ctr/s.css", **fat_meta())

    assert response.status_code == 200
    row = HeaderHit.objects.get()
    table = HeaderHit._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT pg_column_size(t.*) FROM {table} t")
        else:
            columns = " + ".join(
                f"coalesce(length(CAST({f.column} AS BLOB)), 0)"
                for f in HeaderHit._meta.concrete_fields
            )
            cursor.execute(f"SELECT {columns} FROM {table}")
        (size,) = cursor.fetchone()
    print(f"\nstored row: {size} bytes")
    assert size <= MAX_HIT_BYTES
    assert bound.TRUNCATED_HEADER in row.headers


_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",))
    | st.sampled_from(['"', "\\", "\t", "\x01", "é", "\u2028", "\U0001f600"]),
    max_size=400,
)


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(_TEXT, min_size=9, max_size=9),
    headers=st.dictionaries(_TEXT, _TEXT, max_size=40),
)
def test_the_quick_bound_is_never_under_the_exact_size(
    texts: list[str], headers: dict[str, str]
) -> None:
    # Where the quick bound says a hit fits, the exact size (one encoding of its
    # texts, as the journal line spells them) says so too: no hit escapes a cut.
    site, path, referrer, host, agent, browser, source, medium, campaign = texts
    hit = Hit(
        site=site,
        path=path,
        referrer=referrer,
        referrer_host=host,
        user_agent=agent,
        browser=browser,
        utm_source=source,
        utm_medium=medium,
        utm_campaign=campaign,
        verified=True,
        headers=headers,
    )

    assert bound.size_at_most(hit) >= bound.hit_size(hit)


def test_a_typical_hit_is_told_under_the_bound_without_encoding() -> None:
    request = RequestFactory().get("/ctr/s.css", headers=STYLESHEET_HEADERS)

    hit = capture(request)

    assert bound.size_at_most(hit) <= MAX_HIT_BYTES
