from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lambdactr_django.beacon.clean import page_from_url
from lambdactr_django.beacon.embed import image_html, image_url, is_base_url, links_html
from lambdactr_django.conf import conf
from lambdactr_django.hits import Page


class Command(BaseCommand):
    help = (
        "Print the <link> to paste into the <head> of pages this Django project does not "
        "render (a static site, say). Without page URLs it prints one link for every page: "
        "the counter then learns the page from the browser's Referer header. Given page "
        "URLs it prints a signed link for each, which names its page itself and cannot be "
        "reused to count other pages. Unless LAMBDACTR_DAILY_VISITORS is False each stylesheet "
        "link is followed by the daily-visitor link. --image prints the 1x1 <img> for "
        "feed readers and HTML e-mail instead."
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
        parser.add_argument(
            "--image",
            action="store_true",
            help="Print an <img> tag (for RSS items and e-mail) instead of <link> tags.",
        )

    def handle(
        self,
        *args: Any,
        pages: list[str],
        base_url: str | None,
        image: bool = False,
        **options: Any,
    ) -> None:
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
            self.stdout.write(self._html(None, base_url, image))
            return
        for url in pages:
            page = page_from_url(url)
            if not page.site:
                raise CommandError(f"Not an absolute page URL: {url!r}")
            self.stdout.write(self._html(page, base_url, image))

    def _html(self, page: Page | None, base_url: str, image: bool) -> str:
        if image:
            return image_html(image_url(page, base_url))
        return links_html(page, base_url=base_url)
