from __future__ import annotations

import io

from django.core.management import call_command
from django.test import override_settings


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("lambdactr_snippet", "--base-url", "https://counter.example", *args, stdout=out)
    return out.getvalue()


def test_the_snippet_includes_the_visitor_link() -> None:
    lines = _run().splitlines()
    assert lines == [
        '<link rel="stylesheet" href="https://counter.example/ctr/s.css" media="none" '
        'referrerpolicy="no-referrer-when-downgrade">',
        '<link rel="stylesheet" href="https://counter.example/ctr/d.css" media="none" '
        'referrerpolicy="no-referrer-when-downgrade">',
    ]


def test_a_signed_page_gets_the_same_visitor_link_as_an_unsigned_one() -> None:
    lines = _run("https://blog.example/posts/1/").splitlines()
    assert len(lines) == 2
    assert lines[1] == _run().splitlines()[1]


@override_settings(LAMBDACTR_REQUIRE_SIGNATURE=True)
def test_with_signatures_required_a_signed_page_gets_its_sites_visitor_link() -> None:
    lines = _run("https://blog.example/posts/1/").splitlines()
    assert "https://counter.example/ctr/d.css?s=blog.example%3A" in lines[1]


@override_settings(LAMBDACTR_DAILY_VISITORS=False)
def test_no_visitor_link_when_turned_off() -> None:
    assert "d.css" not in _run()


def test_image_variant() -> None:
    assert _run("--image", "https://blog.example/posts/1/").startswith(
        '<img src="https://counter.example/ctr/i.gif?t='
    )
