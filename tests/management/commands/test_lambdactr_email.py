"""lambdactr_email: one message, plain text and HTML, through Django's e-mail framework."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage
from io import StringIO
from typing import Any

import django
import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from lambdactr_django import days, digest
from lambdactr_django.stats import Report
from tests.hits import GOOGLEBOT, make_hit
from tests.server import free_port

pytestmark = pytest.mark.django_db
SITE_URL = "https://www.example.com"
PAGE = "/admin/lambdactr_django/headerhit/statistics/"


def _at(days_ago: int, hours: int = 1) -> dt.datetime:
    # An instant of a day of the site's calendar.
    return days.start_of(days.today() - dt.timedelta(days=days_ago)) + dt.timedelta(hours=hours)


def _data() -> None:
    make_hit(path="/a/", when=_at(1))
    make_hit(path="/a/", when=_at(7, hours=23), referrer_host="news.example")
    make_hit(path="/<b>&amp;/", when=_at(3), referrer_host="evil.example")
    make_hit(kind="visitor", when=_at(2))
    make_hit(kind="visitor", when=_at(4))
    # The period before: days 8 to 14 ago.
    make_hit(path="/a/", when=_at(8))
    make_hit(path="/old/", when=_at(14))
    make_hit(kind="visitor", when=_at(10))
    # Neither: today (not a whole day yet), 15 days ago, a bot, a forged link.
    make_hit(path="/today/", when=_at(0, hours=0) + dt.timedelta(minutes=1))
    make_hit(path="/ancient/", when=_at(15))
    make_hit(path="/bot/", when=_at(1), user_agent=GOOGLEBOT, is_bot=True, device="bot")
    make_hit(path="/forged/", when=_at(1), verified=False)


def _optional_sections() -> str:
    # The top lists a newer Report counts (none of these hits carries one).
    fields = {f.name for f in dataclasses.fields(Report)}
    return "".join(
        f"{title}\n  None in this period.\n\n"
        for name, title, _ in digest.OPTIONAL_SECTIONS
        if name in fields
    )


def _send(*args: str) -> str:
    out = StringIO()
    call_command("lambdactr_email", *args, stdout=out)
    return out.getvalue()


def _dates() -> dict[str, str]:
    today = days.today()
    return {
        name: (today - dt.timedelta(days=ago)).isoformat()
        for name, ago in (("start", 7), ("end", 1), ("before_start", 14), ("before_end", 8))
    }


@override_settings(LAMBDACTR_SITE_URL=SITE_URL + "/", LAMBDACTR_TIME_ZONE="Pacific/Auckland")
def test_the_message_says_the_week_against_the_week_before() -> None:
    _data()
    out = _send("--to", "owner@example.com", "--to", "team@example.com")

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    d = _dates()
    link = f"{SITE_URL}{PAGE}?since={d['start']}&until={d['end']}"
    assert message.to == ["owner@example.com", "team@example.com"]
    assert message.subject == (
        f"Page views of all sites, {d['start']} to {d['end']}: 3 views, 2 visitors"
    )
    assert message.body == (
        "Page views of all sites\n"
        f"{d['start']} to {d['end']} (7 days), people only, against "
        f"{d['before_start']} to {d['before_end']}\n"
        "\n"
        "Views:    3 (+50%; before: 2)\n"
        "Visitors: 2 (+100%; before: 1)\n"
        "\n"
        "Top pages\n"
        "        2  blog.example/a/\n"
        "        1  blog.example/<b>&amp;/\n"
        "\n"
        "Top referrers\n"
        "        1  evil.example\n"
        "        1  news.example\n"
        "\n"
        f"{_optional_sections()}"
        f"The statistics page: {link}\n"
    )
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert '<td style="padding-right: 1em;">blog.example/&lt;b&gt;&amp;amp;/</td>' in html
    assert "<b>" not in html
    assert f'<a href="{link.replace("&", "&amp;")}">The statistics page</a>' in html
    assert "+50% (before: 2)" in html
    assert "Sent 'Page views of all sites" in out


def test_without_the_setting_the_message_says_there_is_no_link() -> None:
    _send("--to", "owner@example.com", "--days", "1")
    message = mail.outbox[0]

    note = "No link to the statistics page: LAMBDACTR_SITE_URL is not set."
    assert note in message.body
    assert note in message.alternatives[0][0]
    assert "http" not in message.body


@override_settings(LAMBDACTR_SITE_URL=SITE_URL)
def test_one_site_and_its_link() -> None:
    _data()
    make_hit(site="other.example", path="/x/", when=_at(1))
    _send("--to", "owner@example.com", "--site", "other.example", "--days", "3")
    body = mail.outbox[0].body

    assert body.startswith("Page views of other.example\n")
    assert "Views:    1 (new; before: 0)\n" in body
    assert "Visitors: 0 (no change; before: 0)\n" in body
    assert "        1  other.example/x/\n" in body
    assert "Top referrers\n  None in this period.\n" in body
    assert "&site=other.example" in body


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--to", "x@example.com", "--days", "0"], "--days must be between 1 and 366"),
        (["--to", "x@example.com", "--days", "367"], "--days must be between 1 and 366"),
        (["--to", "nobody"], "'nobody' is not an e-mail address"),
        (["--to", "a@example.com", "--to", "x@y@z"], "'x@y@z' is not an e-mail address"),
    ],
)
def test_bad_arguments(args: list[str], error: str) -> None:
    with pytest.raises(CommandError, match=error):
        _send(*args)
    assert mail.outbox == []


def test_an_address_is_required() -> None:
    with pytest.raises(CommandError, match="--to"):
        _send()


SMTP = "django.core.mail.backends.smtp.EmailBackend"


def _smtp(port: int, timeout: float) -> dict[str, Any]:
    """Settings that send through an SMTP server on loopback."""
    if django.VERSION >= (6, 1):
        # EMAIL_HOST and the like are deprecated there.
        options = {"host": "127.0.0.1", "port": port, "timeout": timeout}
        return {"MAILERS": {"default": {"BACKEND": SMTP, "OPTIONS": options}}}
    return {
        "EMAIL_BACKEND": SMTP,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": port,
        "EMAIL_TIMEOUT": timeout,
    }


class _Inbox:
    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ready_timeout=5)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_a_real_smtp_server_gets_one_message_with_both_parts(
    smtp: tuple[_Inbox, int],
) -> None:
    inbox, port = smtp
    _data()
    with override_settings(
        **_smtp(port, timeout=5),
        DEFAULT_FROM_EMAIL="counter@example.com",
        LAMBDACTR_SITE_URL=SITE_URL,
    ):
        _send("--to", "owner@example.com", "--to", "team@example.com")

    [(sender, recipients, content)] = inbox.received
    assert sender == "counter@example.com"
    assert recipients == ["owner@example.com", "team@example.com"]
    parsed = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed.get_content_type() == "multipart/alternative"
    # Django 6 folds the long header from its first line: unfolded, a space leads.
    assert str(parsed["Subject"]).strip().startswith("Page views of all sites, ")
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "Views:    3 (+50%; before: 2)" in text.get_content()
    assert "blog.example/&lt;b&gt;&amp;amp;/" in html.get_content()
    assert f"{SITE_URL}{PAGE}?since=" in html.get_content()


def test_a_refused_connection_is_an_error_not_a_traceback() -> None:
    with (
        override_settings(**_smtp(free_port(), timeout=2)),
        pytest.raises(CommandError, match="The message was not sent"),
    ):
        _send("--to", "owner@example.com")


def test_sources_a_report_counts_are_shown_and_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    from lambdactr_django.stats import Row

    def newer(report: Any) -> list[digest.Section]:
        # As a report that counts sources would give them (stats.Report gains fields).
        report = type(
            "Newer",
            (),
            {
                "pages": report.pages,
                "referrers": report.referrers,
                "sources": [Row("<news>", 4, 2)],
                "campaigns": [],
            },
        )()
        return counted(report)

    counted = digest.sections
    monkeypatch.setattr(digest, "sections", newer)
    _send("--to", "owner@example.com", "--days", "1")
    message = mail.outbox[0]

    assert "\nTop sources\n        4  <news>\n\nTop campaigns\n  None in this period.\n" in (
        message.body
    )
    html = message.alternatives[0][0]
    assert '<td style="padding-right: 1em;">&lt;news&gt;</td>' in html
    assert '<h2 style="font-size: 1.1em;">Top campaigns</h2>\n<p>None in this period.</p>' in html
