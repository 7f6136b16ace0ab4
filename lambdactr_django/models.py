from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.db import models
from django.utils import timezone

from lambdactr_django.capture import (
    MAX_PATH_LENGTH,
    MAX_REFERRER_LENGTH,
    MAX_SITE_LENGTH,
    MAX_USER_AGENT_LENGTH,
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
        )


class HeaderHit(models.Model):
    """One page view: the headers of one beacon request, after the privacy rules."""

    # Made by the server alone: nothing in the request can choose or guess it.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
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

    objects = HeaderHitManager()

    class Meta:
        verbose_name = "page view"
        verbose_name_plural = "page views"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["site", "-created_at"], name="lambdactr_site_created_idx"),
            models.Index(fields=["verified", "-created_at"], name="lambdactr_verified_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.site}{self.path} at {self.created_at:%Y-%m-%d %H:%M:%S}"
