from __future__ import annotations

from django.apps import AppConfig
from django.core import checks


class LambdactrConfig(AppConfig):
    name = "lambdactr_django"
    verbose_name = "Counter"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from lambdactr_django.checks import check_settings, check_urls

        checks.register(check_settings)
        checks.register(check_urls, checks.Tags.urls)
