from __future__ import annotations

import pytest

from lambdactr_django.logs.pages import is_asset, page_path


@pytest.mark.parametrize(
    "path",
    ["/", "/about", "/blog/post/", "/index.html", "/page.php", "/v1.2/", "/release-1.2", "/.x"],
)
def test_pages(path: str) -> None:
    assert not is_asset(path)


@pytest.mark.parametrize(
    "path",
    [
        "/site.css",
        "/app.min.js",
        "/logo.SVG",
        "/favicon.ico",
        "/fonts/a.woff2",
        "/feed/",
        "/blog/rss",
        "/feed.xml",
        "/robots.txt",
        "/sitemap.xml",
        "/paper.pdf",
        "/release.tar.gz",
        "/.well-known/security.txt",
    ],
)
def test_assets(path: str) -> None:
    assert is_asset(path)


@pytest.mark.parametrize(
    ("target", "path"),
    [
        ("/a/?q=1", "/a/"),
        ("/a/#x", "/a/"),
        ("/%C3%BCber/", "/über/"),
        ("/bad%FF/", "/bad\ufffd/"),
        ("https://blog.example/abs/?q", "/abs/"),
        ("http://blog.example", "/"),
        ("*", None),
        ("", None),
        ("blog.example:443", None),
    ],
)
def test_page_path(target: str, path: str | None) -> None:
    assert page_path(target) == path
