"""The admin: the hit list (hit_list) with its filters and paginator, the statistics
page with its chart, the export, and the shared-dashboard links. Importing this
registers the hit list and the links."""

from __future__ import annotations

from lambdactr_django.admin.hit_list import HeaderHitAdmin
from lambdactr_django.admin.shared import SharedLinkAdmin

__all__ = ["HeaderHitAdmin", "SharedLinkAdmin"]
