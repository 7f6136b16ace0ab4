"""The admin: the hit list (hit_list) with its filters and paginator, the statistics
page with its chart, the export, the shared-dashboard links and the API tokens.
Importing this registers the hit list, the links and the tokens."""

from __future__ import annotations

from lambdactr_django.admin.hit_list import HeaderHitAdmin
from lambdactr_django.admin.shared import SharedLinkAdmin
from lambdactr_django.admin.tokens import ApiTokenAdmin

__all__ = ["ApiTokenAdmin", "HeaderHitAdmin", "SharedLinkAdmin"]
