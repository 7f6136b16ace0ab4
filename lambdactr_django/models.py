from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils import timezone

from lambdactr_django import classify, keys
from lambdactr_django.capture import (
    IMAGE,
    MAX_PATH_LENGTH,
    MAX_REFERRER_LENGTH,
    MAX_SITE_LENGTH,
    MAX_USER_AGENT_LENGTH,
    STYLESHEET,
    VIEW,
    VISITOR,
)

if TYPE_CHECKING:
    from lambdactr_django.capture import Hit


class HeaderHitQuerySet(models.QuerySet["HeaderHit"]):
    def verified(self) -> HeaderHitQuerySet:
        return self.filter(verified=True)

    def with_external_referrer(self) -> HeaderHitQuerySet:
        return self.exclude(referrer="")


class HeaderHitManager(models.Manager.from_queryset(HeaderHitQuerySet)):  # type: ignore[misc]
    def create_from_hit(self, hit: Hit) -> HeaderHit:
        return self.create(
            site=hit.site,
            path=hit.path,
            referrer=hit.referrer,
            user_agent=hit.user_agent,
            verified=hit.verified,
            headers=hit.headers,
            kind=hit.kind,
            resource=hit.resource,
            referrer_host=hit.referrer_host,
            browser=hit.browser,
            os=hit.os,
            device=hit.device,
            is_bot=hit.is_bot,
            bot_reason=hit.bot_reason,
            prefetch=hit.prefetch,
            dnt=hit.dnt,
            gpc=hit.gpc,
        )


class Kind(models.TextChoices):
    VIEW = VIEW, "page view"
    VISITOR = VISITOR, "visitor-day"


class Resource(models.TextChoices):
    STYLESHEET = STYLESHEET, "stylesheet"
    IMAGE = IMAGE, "image"


class Device(models.TextChoices):
    DESKTOP = classify.DESKTOP, "desktop"
    MOBILE = classify.MOBILE, "mobile"
    TABLET = classify.TABLET, "tablet"
    BOT = classify.BOT, "bot"
    OTHER = classify.OTHER, "other"


class Prefetch(models.TextChoices):
    NONE = "", "no"
    PREFETCH = classify.PREFETCH, "prefetch"
    PRERENDER = classify.PRERENDER, "prerender"


class HeaderHit(models.Model):
    """One beacon request, after the privacy rules: a page view or a visitor-day."""

    # Made by the server alone: nothing in the request can choose or guess it.
    # Time-ordered (UUIDv7): see keys.py for why.
    id = models.UUIDField(primary_key=True, default=keys.new_key, editable=False)
    created_at = models.DateTimeField("when", default=timezone.now, db_index=True)
    site = models.CharField(max_length=MAX_SITE_LENGTH, blank=True)
    path = models.CharField(max_length=MAX_PATH_LENGTH, blank=True)
    referrer = models.CharField(max_length=MAX_REFERRER_LENGTH, blank=True)
    user_agent = models.CharField("user agent", max_length=MAX_USER_AGENT_LENGTH, blank=True)
    verified = models.BooleanField(
        default=True,
        help_text="False when the link's signature was forged or broken.",
    )
    headers = models.JSONField(default=dict, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.VIEW)
    resource = models.CharField(
        "loaded as", max_length=16, choices=Resource.choices, default=Resource.STYLESHEET
    )
    referrer_host = models.CharField("referrer host", max_length=MAX_SITE_LENGTH, blank=True)
    browser = models.CharField(max_length=classify.MAX_FAMILY_LENGTH, blank=True)
    os = models.CharField("OS", max_length=classify.MAX_FAMILY_LENGTH, blank=True)
    device = models.CharField(max_length=16, choices=Device.choices, default=Device.OTHER)
    is_bot = models.BooleanField("bot", default=False)
    bot_reason = models.CharField(
        "bot reason",
        max_length=32,
        blank=True,
        choices=[("", "none"), *classify.BOT_REASONS.items()],
    )
    prefetch = models.CharField(max_length=16, choices=Prefetch.choices, blank=True)
    dnt = models.BooleanField("DNT", default=False, help_text="The browser sent DNT: 1.")
    gpc = models.BooleanField("GPC", default=False, help_text="The browser sent Sec-GPC: 1.")

    objects = HeaderHitManager()

    class Meta:
        verbose_name = "page view"
        verbose_name_plural = "page views"
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
