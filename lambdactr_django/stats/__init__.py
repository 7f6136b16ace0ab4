"""Aggregation: everything that counts hits lives here, for the admin and the commands.

rollups seal past days into per-day counts (listening to the store's
``hits_stored``); traffic defines the traffic classes once; selection picks the
hits; reports counts them (merge adds raw hits and rollups together); export
writes them out row by row.
"""

from __future__ import annotations

from lambdactr_django.stats.reports import TOP_ROWS, class_totals, per_day, report, report_for
from lambdactr_django.stats.results import Day, Report, Row
from lambdactr_django.stats.selection import between, between_q, recent, select
from lambdactr_django.stats.traffic import Traffic, condition, describe, of_traffic

__all__ = [
    "TOP_ROWS",
    "Day",
    "Report",
    "Row",
    "Traffic",
    "between",
    "between_q",
    "class_totals",
    "condition",
    "describe",
    "of_traffic",
    "per_day",
    "recent",
    "report",
    "report_for",
    "select",
]
