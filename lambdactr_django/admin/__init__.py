"""The admin: the hit list (hit_list) with its filters and paginator, the statistics
page with its chart, and the export. Importing this registers the hit list."""

from __future__ import annotations

from lambdactr_django.admin.hit_list import HeaderHitAdmin

__all__ = ["HeaderHitAdmin"]
