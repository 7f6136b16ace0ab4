from __future__ import annotations

from django.urls import path

from lambdactr_django.admin import public
from lambdactr_django.api import views as api
from lambdactr_django.beacon import views

app_name = "lambdactr"

# Short neutral names: ad-block lists match words such as count, hit, pixel,
# track, analytics, beacon, collect, stats and visit in resource URLs.
urlpatterns = [
    path("s.css", views.stylesheet, name="stylesheet"),
    path("d.css", views.visitor_day, name="daily"),
    path("i.gif", views.image, name="image"),
    # A shared dashboard (admin/public.py): the key is a signed random token.
    path("shared/<str:key>/", public.shared_statistics, name="shared_statistics"),
    # The statistics as JSON, for the admin's staff and their tokens (docs/api.md).
    path("api/statistics.json", api.statistics, name="api_statistics"),
    path("api/openapi.json", api.openapi, name="api_openapi"),
]
