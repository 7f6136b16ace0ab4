"""Shared dashboards: read-only links to one site's statistics, made and revoked
in the admin (SharedLinkAdmin), opened by admin/public.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core import signing
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from lambdactr_django.admin.filters import recent_values
from lambdactr_django.models import HeaderHit, SharedLink

# The URL carries the token signed: a copy of the table cannot make a link.
SALT = "lambdactr_django.shared-dashboard"
URL_NAME = "lambdactr:shared_statistics"


def signed(token: str) -> str:
    return signing.Signer(salt=SALT).sign(token)


def open_link(key: str) -> SharedLink | None:
    """The open (not revoked, not expired) link ``key`` is the signed token of; else None."""
    try:
        token = signing.Signer(salt=SALT).unsign(key)
    except signing.BadSignature:
        return None
    link = SharedLink.objects.filter(token=token).first()
    return link if link is not None and link.is_open() else None


def share_path(link: SharedLink) -> str:
    return reverse(URL_NAME, kwargs={"key": signed(link.token)})


class SharedLinkForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = SharedLink
        fields = ["site", "label", "expires_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "site" in self.fields:
            # The sites of the latest hits, as the hit list's site filter offers them.
            sites = [s for s in recent_values(HeaderHit.objects.all(), "site") if s]
            self.fields["site"] = forms.ChoiceField(
                choices=[(s, s) for s in sites], help_text="The site whose statistics it shows."
            )


@admin.register(SharedLink)
class SharedLinkAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = SharedLinkForm
    list_display = ["site", "label", "status", "created_at", "created_by", "expires_at", "url"]
    list_filter = ["site"]
    actions = ["revoke"]
    show_facets = admin.ShowFacets.NEVER

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["site", "label", "expires_at"]
        return ["url", "status", "site", "label", "expires_at", "created_at", "created_by"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        # A link keeps its site: a new site is a new link.
        return ["url", "status", "site", "created_at", "created_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Sharing numbers takes being allowed to read them.
        return super().has_add_permission(request) and request.user.has_perm(
            "lambdactr_django.view_headerhit"
        )

    def save_model(self, request: HttpRequest, obj: SharedLink, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user.get_username()
        super().save_model(request, obj, form, change)

    @admin.display(description="status")
    def status(self, obj: SharedLink) -> str:
        if obj.revoked_at is not None:
            return "revoked"
        return "open" if obj.is_open() else "expired"

    @admin.display(description="link")
    def url(self, obj: SharedLink) -> SafeString | str:
        if not obj.is_open():
            return "—"
        path = share_path(obj)
        return format_html('<a href="{}" rel="noreferrer">{}</a>', path, path)

    @admin.action(description="Revoke the selected links", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[SharedLink]) -> None:
        revoked = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {revoked} link(s).", messages.SUCCESS)
