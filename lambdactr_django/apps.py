from __future__ import annotations

from importlib import import_module

from django.apps import AppConfig
from django.core import checks


class LambdactrConfig(AppConfig):
    name = "lambdactr_django"
    verbose_name = "Counter"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from lambdactr_django.checks import check_deployment, check_settings, check_urls

        # The rollups follow what the store announces (signals.hits_stored).
        import_module("lambdactr_django.stats.rollups")
        checks.register(check_settings)
        checks.register(check_deployment, deploy=True)
        checks.register(check_urls, checks.Tags.urls)
