from __future__ import annotations

from django.urls import path

from lambdactr_django import views

app_name = "lambdactr"

# Short neutral names: ad-block lists match words such as count, hit, pixel,
# track, analytics, beacon, collect and stats in resource URLs.
urlpatterns = [
    path("s.css", views.stylesheet, name="stylesheet"),
]
