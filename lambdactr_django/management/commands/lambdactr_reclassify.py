from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import router, transaction

from lambdactr_django import days
from lambdactr_django.beacon import sources
from lambdactr_django.beacon.capture import labels_for
from lambdactr_django.beacon.classify import Labels
from lambdactr_django.beacon.clean import referrer_host
from lambdactr_django.hits import Kind
from lambdactr_django.models import HeaderHit
from lambdactr_django.stats import rollups

# Every column classify computes, plus the referrer's host, a view's channel and
# the language: one list, so a new label is re-applied here without touching
# this command. (The country is not: the address it came from is not stored.)
LABEL_FIELDS = (
    *("referrer_host", "channel", "language"),
    *(field.name for field in dataclasses.fields(Labels)),
)


class Command(BaseCommand):
    help = (
        "Apply today's user-agent parsing, bot, prefetch and privacy-signal rules, "
        "channels and languages to every stored hit, from its stored user agent, "
        "headers, referrer and campaign tags: after upgrading lambdactr-django, "
        "ua-parser, crawler-user-agents or referer-parser, or after changing "
        "LAMBDACTR_REDACTED_HEADERS. Only labels change; no hit is deleted. Works in "
        "batches, each committed on its own, so it can be stopped and run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="Hits read and updated per batch (default: 1000).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count the hits that would change only."
        )

    def handle(self, *args: Any, batch_size: int, dry_run: bool, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        total = HeaderHit.objects.count()
        checked = changed = 0
        last = None
        alias = router.db_for_write(HeaderHit) or "default"
        # Days whose labels changed: unsealed with each batch, rolled again at the end.
        relabelled: set[dt.date] = set()
        try:
            while True:
                # Keyset pages on the primary key: stable while rows are updated.
                page = (
                    HeaderHit.objects.using(alias)
                    .order_by("pk")
                    .only(
                        "pk",
                        "created_at",
                        "user_agent",
                        "headers",
                        "resource",
                        "referrer",
                        "kind",
                        *("utm_source", "utm_medium", "utm_campaign"),
                        *LABEL_FIELDS,
                    )
                )
                if last is not None:
                    page = page.filter(pk__gt=last)
                hits = list(page[:batch_size])
                if not hits:
                    break
                last = hits[-1].pk
                dirty = [hit for hit in hits if relabel(hit)]
                if dirty and not dry_run:
                    touched = {days.day_of(hit.created_at) for hit in dirty}
                    with transaction.atomic(using=alias):
                        rollups.forget(touched, using=alias)
                        HeaderHit.objects.using(alias).bulk_update(dirty, LABEL_FIELDS)
                    relabelled |= touched
                checked += len(hits)
                changed += len(dirty)
                self.stdout.write(f"Checked {checked} of {total} hits, {changed} relabelled")
        except KeyboardInterrupt:
            raise CommandError(
                f"Interrupted after checking {checked} hits ({changed} relabelled); "
                "run again to finish."
            ) from None
        if relabelled:
            self.stdout.write(f"Rolling up {len(relabelled)} relabelled days again")
            rollups.roll(relabelled)
        verb = "would change" if dry_run else "relabelled"
        self.stdout.write(self.style.SUCCESS(f"{checked} hits checked, {changed} {verb}."))


def relabel(hit: HeaderHit) -> bool:
    """Set ``hit``'s labels from its stored data; True when any changed."""
    labels = labels_for(hit.user_agent, hit.headers or {}, hit.resource)
    host = referrer_host(hit.referrer)
    campaign = sources.Campaign(hit.utm_source, hit.utm_medium, hit.utm_campaign)
    new = {
        "referrer_host": host,
        "channel": sources.channel_for(host, campaign) if hit.kind == Kind.VIEW else "",
        "language": sources.language_of((hit.headers or {}).get("Accept-Language", "")),
        **dataclasses.asdict(labels),
    }
    changed = any(getattr(hit, name) != value for name, value in new.items())
    for name, value in new.items():
        setattr(hit, name, value)
    return changed
