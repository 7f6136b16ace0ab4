from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template import Context, Template
from django.urls import include, path


def page(request: HttpRequest) -> HttpResponse:
    # A page that embeds the counter, for the tests that need one on a real server.
    template = Template(
        "<!doctype html><title>A page</title>{% load lambdactr %}{% tracking_link %}"
    )
    return HttpResponse(template.render(Context({"request": request})))


urlpatterns = [
    path("admin/", admin.site.urls),
    path("ctr/", include("lambdactr_django.urls")),
    path("page/", page),
]
