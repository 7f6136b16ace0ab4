"""README's "use it in your project", followed to the letter in a brand-new project."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SETTINGS_ADDITIONS = """
INSTALLED_APPS += ["lambdactr_django"]
TEMPLATES[0]["DIRS"] = [BASE_DIR / "templates"]
"""

URLS = """
from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html")),
    path("admin/", admin.site.urls),
    path("ctr/", include("lambdactr_django.urls")),
]
"""

TEMPLATE = """<!doctype html>
<html><head>{% load lambdactr %}{% tracking_link %}<title>Home</title></head>
<body><h1>Hello</h1></body></html>
"""

# Runs inside the new project: view the page as a browser would (the page, then
# each of its stylesheets, with the headers Chrome sends for them), then open the
# admin's list as a superuser.
VISIT = """
import re

import django
django.setup()
from django.contrib.auth.models import User
from django.test import Client

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
BROWSER = {"User-Agent": CHROME, "Accept-Language": "en-GB,en;q=0.9"}

# A new project allows only local hosts while DEBUG is on.
client = Client(HTTP_HOST="127.0.0.1:8000")
page = client.get(
    "/",
    headers={
        **BROWSER,
        "Accept": "text/html",
        "Referer": "https://news.example/item?id=1",
        "Sec-Fetch-Dest": "document",
        "Sec-Fetch-Mode": "navigate",
        "Sec-Fetch-Site": "cross-site",
    },
)
hrefs = re.findall(r'<link rel="stylesheet" href="([^"]+)" media="none"', page.text)
print("links", " ".join(href.split("?")[0] for href in hrefs))
for href in hrefs:
    beacon = client.get(
        href.replace("&amp;", "&"),
        headers={
            **BROWSER,
            "Accept": "text/css,*/*;q=0.1",
            "Referer": "http://127.0.0.1:8000/",
            "Sec-Fetch-Dest": "style",
            "Sec-Fetch-Mode": "no-cors",
            "Sec-Fetch-Site": "same-origin",
        },
    )
    print("beacon", beacon.status_code, beacon["Content-Type"])

admin = User.objects.create_superuser("admin", "admin@example.com", "pw")
client.force_login(admin)
listing = client.get("/admin/lambdactr_django/headerhit/")
print("admin", listing.status_code)
print("rows", listing.text.count('class="action-checkbox"'))
print("kinds", sorted(re.findall(r'<td class="field-kind">([^<]*)</td>', listing.text)))
print("traffic", sorted(re.findall(r'<td class="field-traffic_label">([^<]*)</td>', listing.text)))
print("row_shows_referrer", "https://news.example/item" in listing.text)
"""


def run(args: list[str], cwd: Path) -> str:
    result = subprocess.run(
        args,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"DJANGO_SETTINGS_MODULE": "mysite.settings", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    # The documented minimal integration is quiet: no warning from the app.
    assert "lambdactr_django." not in result.stderr
    return result.stdout


def test_brand_new_project_counts_the_first_page_view(tmp_path):
    django_admin = [sys.executable, "-m", "django"]
    subprocess.run([*django_admin, "startproject", "mysite", str(tmp_path)], check=True)
    settings = tmp_path / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + SETTINGS_ADDITIONS)
    (tmp_path / "mysite" / "urls.py").write_text(URLS)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "home.html").write_text(TEMPLATE)

    assert "lambdactr_django" in run([sys.executable, "manage.py", "migrate"], tmp_path)
    assert "no issues" in run([sys.executable, "manage.py", "check"], tmp_path)
    output = run([sys.executable, "-c", textwrap.dedent(VISIT)], tmp_path)

    # The page view, and the browser's first visit of the day.
    assert output.splitlines() == [
        "links /ctr/s.css /ctr/d.css",
        "beacon 200 text/css",
        "beacon 200 text/css",
        "admin 200",
        "rows 2",
        "kinds ['page view', 'visitor-day']",
        "traffic ['person', 'person']",
        "row_shows_referrer True",
    ]


def test_check_deploy_says_what_production_needs(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "django", "startproject", "mysite", str(tmp_path)], check=True
    )
    settings = tmp_path / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + SETTINGS_ADDITIONS)
    (tmp_path / "mysite" / "urls.py").write_text(URLS)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"DJANGO_SETTINGS_MODULE": "mysite.settings", "PATH": "/usr/bin:/bin"},
    )
    assert "lambdactr_django.W101" in result.stderr
