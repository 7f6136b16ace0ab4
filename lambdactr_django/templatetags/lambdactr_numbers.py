"""``{{ n|count }}`` and ``{{ fraction|percent }}``: thin over admin/numbers.py."""

from __future__ import annotations

from django import template

from lambdactr_django.admin import numbers

register = template.Library()


@register.filter
def count(value: int | float | None) -> str:
    return numbers.count(value)


@register.filter
def percent(value: float | None) -> str:
    return numbers.percent(value)
