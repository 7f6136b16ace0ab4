"""The API tokens' admin: made here (the secret shown once), revoked, never edited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from lambdactr_django.api import tokens
from lambdactr_django.models import ApiToken


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("live", "Live"), ("revoked", "Revoked")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> QuerySet[ApiToken]:
        if self.value() in ("live", "revoked"):
            return queryset.filter(revoked_at__isnull=self.value() == "live")
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["prefix", "name", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = [StateFilter]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]
    raw_id_fields = ["user"]

    # Whoever makes a token sees its secret: only a superuser may make one for
    # another user, and everyone else sees and revokes only their own.
    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        chosen = super().get_queryset(request)
        return chosen if request.user.is_superuser else chosen.filter(user=request.user.pk)

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("user", "name") if request.user.is_superuser else ("name",)
        return ("user", "name", *self.readonly_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        # A token's user is set once: moving it would hand one user's secret to another.
        return [*self.readonly_fields, "user"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if not change and not request.user.is_superuser:
            obj.user = request.user  # type: ignore[assignment]
        secret = None if change else tokens.fill(obj)
        super().save_model(request, obj, form, change)
        if secret is not None:
            messages.warning(
                request,
                format_html(
                    "The new token is <code>{}</code>. Copy it now: it is shown only once, "
                    "and only its hash is kept.",
                    secret,
                ),
            )

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = tokens.revoke(queryset)
        self.message_user(request, f"Revoked {count} token{'s' if count != 1 else ''}.")
