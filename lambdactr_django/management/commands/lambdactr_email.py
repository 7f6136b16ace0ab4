from __future__ import annotations

import smtplib
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email

from lambdactr_django import digest

MAX_DAYS = 366


class Command(BaseCommand):
    help = (
        "E-mail a digest of the statistics: the last N whole days (yesterday and before, in "
        "LAMBDACTR_TIME_ZONE or TIME_ZONE) of people's views and visitors, the change "
        "against the N days before, top pages and referrers, and a link to the statistics "
        "page (from LAMBDACTR_SITE_URL). One message with a plain-text and an HTML part, "
        "sent through Django's e-mail settings (EMAIL_BACKEND, DEFAULT_FROM_EMAIL). Run it "
        "from cron, e.g. weekly with --days 7."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--to",
            action="append",
            required=True,
            metavar="ADDRESS",
            help="Send to this address; repeat for more (one message to all).",
        )
        parser.add_argument(
            "--days",
            type=int,
            default=7,
            help="How many whole days, ending yesterday (default: 7).",
        )
        parser.add_argument("--site", help="Only this site (host name, as the hit list shows).")

    def handle(self, *args: Any, **options: Any) -> None:
        if not 1 <= options["days"] <= MAX_DAYS:
            raise CommandError(f"--days must be between 1 and {MAX_DAYS}.")
        addresses = [address.strip() for address in options["to"]]
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError as error:
                raise CommandError(f"--to {address!r} is not an e-mail address.") from error
        made = digest.build(options["days"], options["site"])
        try:
            sent = digest.message(made, addresses).send()
        except (smtplib.SMTPException, OSError) as error:
            raise CommandError(f"The message was not sent: {error}") from error
        self.stdout.write(f"Sent {made.subject!r} to {', '.join(addresses)} ({sent} message).")
