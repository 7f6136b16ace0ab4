from __future__ import annotations

import re
from io import StringIO
from urllib.parse import unquote

import pytest
from django.core.management import CommandError, call_command
from django.test.utils import override_settings

from lambdactr_django.beacon.signing import read_token
from lambdactr_django.hits import Page
from lambdactr_django.management.commands.lambdactr_snippet import Command

# The page-view link, then the daily-visitor link.
UNSIGNED = (
    '<link rel="stylesheet" href="https://counter.example/ctr/s.css" media="none" '
    'referrerpolicy="no-referrer-when-downgrade">\n'
    '<link rel="stylesheet" href="https://counter.example/ctr/d.css" media="none" '
    'referrerpolicy="no-referrer-when-downgrade">\n'
)
SIGNED = re.compile(
    r'<link rel="stylesheet" href="https://counter\.example/ctr/s\.css\?t=([A-Za-z0-9_.%-]+)" '
    r'media="none" referrerpolicy="no-referrer-when-downgrade">\n'
    r'<link rel="stylesheet" href="https://counter\.example/ctr/d\.css" '
    r'media="none" referrerpolicy="no-referrer-when-downgrade">\n'
)


def run(*args: str) -> str:
    out = StringIO()
    call_command("lambdactr_snippet", *args, stdout=out)
    return out.getvalue()


def signed_pages(output: str) -> list[Page | None]:
    """The page each pair of links is signed for; fails unless ``output`` is exactly such
    pairs, each with the one visitor link every page shares."""
    matches = list(SIGNED.finditer(output))
    assert "".join(match[0] for match in matches) == output, output
    return [read_token(unquote(match[1])) for match in matches]


def test_without_base_url_it_says_what_to_do() -> None:
    with pytest.raises(CommandError) as excinfo:
        run()

    assert str(excinfo.value) == (
        "A static page needs the counter's absolute address: pass --base-url "
        "https://counter.example or set LAMBDACTR_BASE_URL."
    )


def test_prints_the_unsigned_link_for_the_base_url_option() -> None:
    assert run("--base-url", "https://counter.example") == UNSIGNED


@override_settings(LAMBDACTR_BASE_URL="https://counter.example/")
def test_prints_the_unsigned_link_for_the_base_url_setting() -> None:
    assert run() == UNSIGNED


@override_settings(LAMBDACTR_BASE_URL="https://elsewhere.example")
def test_base_url_option_wins_over_the_setting() -> None:
    assert run("--base-url", "https://counter.example") == UNSIGNED


def test_prints_one_signed_link_per_page() -> None:
    output = run(
        "--base-url",
        "https://counter.example",
        "https://Blog.Example/posts/1/?utm_source=feed#top",
        "http://localhost:8000/about/",
    )

    assert signed_pages(output) == [
        Page("blog.example", "/posts/1/", ""),
        Page("localhost:8000", "/about/", ""),
    ]


@override_settings(LAMBDACTR_DAILY_VISITORS=False)
def test_prints_only_the_page_view_link_without_daily_visitors() -> None:
    assert run("--base-url", "https://counter.example") == (
        '<link rel="stylesheet" href="https://counter.example/ctr/s.css" media="none" '
        'referrerpolicy="no-referrer-when-downgrade">\n'
    )


@pytest.mark.parametrize("url", ["/posts/1/", "blog.example/posts/1/", "", "https://"])
def test_rejects_a_page_url_that_is_not_absolute(url: str) -> None:
    with pytest.raises(CommandError) as excinfo:
        run("--base-url", "https://counter.example", url)

    assert str(excinfo.value) == f"Not an absolute page URL: {url!r}"


@pytest.mark.parametrize(
    "base_url",
    ["counter.example", "/ctr/", "ftp://counter.example", "https://counter.example/?a=1"],
)
def test_rejects_a_base_url_that_is_not_an_absolute_http_url(base_url: str) -> None:
    with pytest.raises(CommandError) as excinfo:
        run("--base-url", base_url)

    assert str(excinfo.value) == (
        "The counter's address should be an absolute http(s) URL such as "
        f"https://counter.example, not {base_url!r}."
    )


def test_help_explains_the_command() -> None:
    parser = Command().create_parser("manage.py", "lambdactr_snippet")

    text = " ".join(parser.format_help().split())

    assert "Print the <link> to paste into the <head> of pages" in text
    assert "[PAGE_URL ...]" in text
    assert "--base-url BASE_URL" in text
