from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lambdactr_django.capture import page_from_url
from lambdactr_django.conf import conf
from lambdactr_django.links import is_base_url, link_html, stylesheet_url


class Command(BaseCommand):
    help = (
        "Print the <link> to paste into the <head> of pages this Django project does not "
        "render (a static site, say). Without page URLs it prints one link for every page: "
        "the counter then learns the page from the browser's Referer header. Given page "
        "URLs it prints a signed link for each, which names its page itself and cannot be "
        "reused to count other pages."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "pages",
            nargs="*",
            metavar="PAGE_URL",
            help="Absolute URL of a page to sign a link for, e.g. https://blog.example/posts/1/",
        )
        parser.add_argument(
            "--base-url",
            help="Scheme and host serving the counter, e.g. https://counter.example "
            "(default: LAMBDACTR_BASE_URL).",
        )

    def handle(self, *args: Any, pages: list[str], base_url: str | None, **options: Any) -> None:
        base_url = base_url or conf.BASE_URL
        if not base_url:
            raise CommandError(
                "A static page needs the counter's absolute address: pass --base-url "
                "https://counter.example or set LAMBDACTR_BASE_URL."
            )
        if not is_base_url(base_url):
            # The link goes into pages served elsewhere: a relative href would count nothing.
            raise CommandError(
                "The counter's address should be an absolute http(s) URL such as "
                f"https://counter.example, not {base_url!r}."
            )
        if not pages:
            self.stdout.write(link_html(stylesheet_url(None, base_url)))
            return
        for url in pages:
            page = page_from_url(url)
            if not page.site:
                raise CommandError(f"Not an absolute page URL: {url!r}")
            self.stdout.write(link_html(stylesheet_url(page, base_url)))
