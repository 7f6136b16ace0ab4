from __future__ import annotations

from typing import Any

from django import template
from django.http import HttpRequest
from django.utils.safestring import SafeString

from lambdactr_django.links import link_html, page_for_request, stylesheet_url

register = template.Library()


@register.simple_tag(takes_context=True)
def tracking_link(context: template.Context) -> SafeString:
    """The counter's ``<link rel="stylesheet" media="none">`` for the page being rendered.

    With ``request`` in the context the link is signed for this page and carries
    the visitor's external referrer; without it the counter falls back to the
    stylesheet request's ``Referer``.
    """
    request = context.get("request")
    page = page_for_request(request) if isinstance(request, HttpRequest) else None
    return link_html(stylesheet_url(page), nonce=_csp_nonce(context, request))


def _csp_nonce(context: template.Context, request: Any) -> str | None:
    # Django 6's CSP context processor and django-csp both expose the nonce.
    nonce = context.get("csp_nonce") or getattr(request, "csp_nonce", None)
    return str(nonce) if nonce else None
