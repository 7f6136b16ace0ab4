from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import ForeignObjectRel
from django.utils import timezone

from lambdactr_django.hits import (
    COUNTRY_LENGTH,
    MAX_BOT_REASON_LENGTH,
    MAX_FAMILY_LENGTH,
    MAX_LABEL_LENGTH,
    MAX_LANGUAGE_LENGTH,
    MAX_PATH_LENGTH,
    MAX_REFERRER_LENGTH,
    MAX_SITE_LENGTH,
    MAX_USER_AGENT_LENGTH,
    MAX_UTM_LENGTH,
    BotReason,
    Channel,
    Device,
    Kind,
    Prefetch,
    Resource,
)
from lambdactr_django.uuid7 import uuid7


class HeaderHit(models.Model):
    """One hit: a stored ``lambdactr_django.hits.Hit``, a page view or a visitor-day.

    Named HeaderHit for its table and its permissions (``view_headerhit``);
    everywhere a person reads it, it is a "hit".
    """

    # Made by the server alone: nothing in the request can choose or guess it.
    # Time-ordered (UUIDv7): see uuid7.py for why.
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    created_at = models.DateTimeField("when", default=timezone.now, db_index=True)
    site = models.CharField(max_length=MAX_SITE_LENGTH, blank=True)
    path = models.CharField(max_length=MAX_PATH_LENGTH, blank=True)
    referrer = models.CharField(max_length=MAX_REFERRER_LENGTH, blank=True)
    user_agent = models.CharField("user agent", max_length=MAX_USER_AGENT_LENGTH, blank=True)
    verified = models.BooleanField(
        default=True,
        help_text=(
            "False when the link's signature was forged or broken, or the hit was "
            "imported from an access log."
        ),
    )
    headers = models.JSONField(default=dict, blank=True)
    kind = models.CharField(
        max_length=MAX_LABEL_LENGTH, choices=list(Kind.LABELS.items()), default=Kind.VIEW
    )
    resource = models.CharField(
        "loaded as",
        max_length=MAX_LABEL_LENGTH,
        choices=list(Resource.LABELS.items()),
        default=Resource.STYLESHEET,
    )
    referrer_host = models.CharField("referrer host", max_length=MAX_SITE_LENGTH, blank=True)
    browser = models.CharField(max_length=MAX_FAMILY_LENGTH, blank=True)
    os = models.CharField("OS", max_length=MAX_FAMILY_LENGTH, blank=True)
    device = models.CharField(
        max_length=MAX_LABEL_LENGTH, choices=list(Device.LABELS.items()), default=Device.OTHER
    )
    is_bot = models.BooleanField("bot", default=False)
    bot_reason = models.CharField(
        "bot reason",
        max_length=MAX_BOT_REASON_LENGTH,
        blank=True,
        choices=[("", "none"), *BotReason.LABELS.items()],
    )
    prefetch = models.CharField(
        max_length=MAX_LABEL_LENGTH, choices=list(Prefetch.LABELS.items()), blank=True
    )
    dnt = models.BooleanField("DNT", default=False, help_text="Whether the browser sent DNT: 1.")
    gpc = models.BooleanField(
        "GPC", default=False, help_text="Whether the browser sent Sec-GPC: 1."
    )
    channel = models.CharField(
        max_length=MAX_LABEL_LENGTH,
        blank=True,
        choices=[("", "none"), *Channel.LABELS.items()],
        help_text="How a page view arrived from elsewhere; none: direct or internal.",
    )
    utm_source = models.CharField("utm_source", max_length=MAX_UTM_LENGTH, blank=True)
    utm_medium = models.CharField("utm_medium", max_length=MAX_UTM_LENGTH, blank=True)
    utm_campaign = models.CharField("utm_campaign", max_length=MAX_UTM_LENGTH, blank=True)
    language = models.CharField(
        max_length=MAX_LANGUAGE_LENGTH,
        blank=True,
        help_text="The first language of Accept-Language, with its region if given.",
    )
    country = models.CharField(
        max_length=COUNTRY_LENGTH, blank=True, help_text="ISO 3166-1 alpha-2 code."
    )

    class Meta:
        verbose_name = "hit"
        verbose_name_plural = "hits"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["site", "-created_at"], name="lambdactr_site_created_idx"),
            models.Index(fields=["verified", "-created_at"], name="lambdactr_verified_idx"),
            # The statistics' default question: verified human hits of one kind, by date.
            models.Index(
                fields=["kind", "is_bot", "prefetch", "-created_at"],
                name="lambdactr_kind_human_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site}{self.path} at {self.created_at:%Y-%m-%d %H:%M:%S}"


def column_of(field: models.Field[Any, Any] | ForeignObjectRel) -> str:
    """The database column of a concrete field (Django types it as optional)."""
    column = getattr(field, "column", None)
    if not isinstance(column, str):
        raise TypeError(f"{field!r} has no column")
    return column


# A page's rollup row with at least this many hits is "heavy": the partial
# index lambdactr_rollup_heavy_idx holds these rows only, and the statistics
# find the top pages among them first (lambdactr_django.stats.report).
HEAVY_PAGE_DAY = 20


class Rollup(models.Model):
    """Hits of one day, or of one whole month, counted by one dimension (see
    lambdactr_django.stats.rollups).

    A row counts one value's views, visitor-days and second views (``folded``
    0), or, past the busiest values of its day, site, dimension, traffic class
    and signature, everything else together (``value`` empty, ``folded`` the
    number of values). ``largest_views`` and ``largest_visitors``, on every row
    of the group, are the most one of the folded values had (0: none folded).
    A month's rows (``period`` "month") have the month's first day as ``day``.
    Each group is counted twice: per site (``scope`` "site"), and over every
    site at once (``scope`` "all", ``site`` empty but for a page's or entry
    page's kept rows, whose value is a path of that site), so that the
    statistics of all sites read one group of rows a day, not one per site.
    Derived data, rebuilt from the hits at any time: a plain auto key is
    enough.
    """

    day = models.DateField()
    # "day", or "month": the rows of a whole month, for ranges of many months.
    period = models.CharField(max_length=5, default="day")
    # "site": a group of one site's hits; "all": of every site's together.
    scope = models.CharField(max_length=4, default="site")
    site = models.CharField(max_length=MAX_SITE_LENGTH, blank=True)
    # Which column ``value`` holds: one of lambdactr_django.stats.rollups.DIMENSIONS.
    dimension = models.CharField(max_length=16)
    value = models.CharField(max_length=MAX_PATH_LENGTH, blank=True)
    traffic = models.CharField(max_length=MAX_LABEL_LENGTH)
    verified = models.BooleanField()
    views = models.BigIntegerField(default=0)
    visitors = models.BigIntegerField(default=0)
    seconds = models.BigIntegerField(default=0)
    folded = models.IntegerField(default=0)
    largest_views = models.BigIntegerField(default=0)
    largest_visitors = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "rollup row"
        indexes = [
            # A day's rows, which rolling it again deletes.
            models.Index(fields=["day", "dimension"], name="lambdactr_rollup_day_idx"),
            # A scope's rows of one dimension over a range: what every list reads.
            models.Index(fields=["scope", "dimension", "day"], name="lambdactr_rollup_scope_idx"),
            models.Index(
                fields=["scope", "dimension", "site", "day"], name="lambdactr_rollup_bysite_idx"
            ),
            # A few pages' rows over a range of days (stats.report's top pages).
            models.Index(
                fields=["value", "day"],
                condition=models.Q(dimension="page"),
                name="lambdactr_rollup_page_idx",
            ),
            # The few folded rows of a range, which bound what a top list may miss.
            models.Index(
                fields=["dimension", "day", "site"],
                condition=models.Q(folded__gt=0),
                name="lambdactr_rollup_folded_idx",
            ),
            # The few busy page-days the statistics look at first.
            models.Index(
                fields=["day"],
                condition=models.Q(dimension="page", views__gte=HEAVY_PAGE_DAY),
                name="lambdactr_rollup_busy_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.site} {self.dimension}={self.value!r}: {self.views} views"


class RolledDay(models.Model):
    """A day whose hits are counted in Rollup, and the time zone its midnights were in.

    ``until`` None: the whole day is counted (sealed). Otherwise the day is not
    over (or not sealable yet) and its hits before ``until``, a whole hour, are.
    """

    day = models.DateField(primary_key=True)
    zone = models.CharField(max_length=64)
    until = models.DateTimeField(null=True, blank=True)
    rolled_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "rolled-up day"
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} ({self.zone})"


class RolledMonth(models.Model):
    """A whole month whose hits are counted in Rollup's month rows, in this time zone.

    Rolled only once every day of it is sealed; unrolled (the row deleted) as
    soon as one of its days is rolled again or forgotten.
    """

    month = models.DateField(primary_key=True)
    zone = models.CharField(max_length=64)
    rolled_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "rolled-up month"
        ordering = ["month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} ({self.zone})"


def new_share_token() -> str:
    """A shared link's secret: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


class SharedLink(models.Model):
    """A read-only link to one site's statistics, for people without an admin login.

    The URL carries ``token`` signed with the project's SECRET_KEY (see
    lambdactr_django.admin.shared): the table alone is not enough to make it.
    Revoked (``revoked_at``) or past ``expires_at``, it opens nothing.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    token = models.CharField(max_length=64, unique=True, default=new_share_token, editable=False)
    site = models.CharField(
        max_length=MAX_SITE_LENGTH, help_text="The site whose statistics it shows."
    )
    label = models.CharField(
        max_length=100, blank=True, help_text="Who or what the link is for, for you alone."
    )
    created_at = models.DateTimeField("created", default=timezone.now, editable=False)
    # A username, not a key: the counter's tables may live on a database of their own.
    created_by = models.CharField("created by", max_length=150, blank=True, editable=False)
    expires_at = models.DateTimeField(
        "expires", null=True, blank=True, help_text="Empty: until revoked."
    )
    revoked_at = models.DateTimeField("revoked", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "shared dashboard link"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.site} ({self.label})" if self.label else self.site

    def is_open(self, now: Any = None) -> bool:
        """Not revoked, and not expired at ``now`` (default: now)."""
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class ApiToken(models.Model):
    """A read-only token of the JSON statistics for one user (lambdactr_django.api).

    Only the SHA-256 of the token is kept; ``prefix`` (its first characters, not
    secret) lets a person tell their tokens apart. It reads what its user may
    read: nothing once the user is inactive, no longer staff or without the
    hits' view permission.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lambdactr_tokens"
    )
    name = models.CharField(max_length=100, blank=True, help_text="What the token is for.")
    prefix = models.CharField(max_length=16, editable=False)
    digest = models.CharField("SHA-256", max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField("created", default=timezone.now, editable=False)
    last_used_at = models.DateTimeField("last used", null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField("revoked", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API token"
        verbose_name_plural = "API tokens"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or 'unnamed'})"

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None
