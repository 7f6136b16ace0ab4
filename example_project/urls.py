from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from example_project import views

urlpatterns = [
    path("", TemplateView.as_view(template_name="example/home.html"), name="home"),
    path("about/", TemplateView.as_view(template_name="example/about.html"), name="about"),
    path(
        "posts/hello-counter/",
        TemplateView.as_view(template_name="example/post.html"),
        name="post",
    ),
    path("admin/", admin.site.urls),
    path("ctr/", include("lambdactr_django.urls")),
]

if settings.BENCH_BASELINE:
    urlpatterns += [path("bench/empty.css", views.bench_empty_stylesheet)]
