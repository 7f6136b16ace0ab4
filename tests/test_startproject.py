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
# its stylesheet), then open the admin's list as a superuser.
VISIT = """
import re

import django
django.setup()
from django.contrib.auth.models import User
from django.test import Client

# A new project allows only local hosts while DEBUG is on.
client = Client(HTTP_HOST="127.0.0.1:8000")
page = client.get("/", HTTP_REFERER="https://news.example/item?id=1")
href = re.search(r'<link rel="stylesheet" href="([^"]+)" media="none"', page.text).group(1)
href = href.replace("&amp;", "&")
beacon = client.get(href, HTTP_REFERER="http://127.0.0.1:8000/", HTTP_SEC_FETCH_DEST="style")
print("beacon", beacon.status_code, beacon["Content-Type"])

admin = User.objects.create_superuser("admin", "admin@example.com", "pw")
client.force_login(admin)
listing = client.get("/admin/lambdactr_django/headerhit/")
print("admin", listing.status_code)
print("rows", listing.text.count('class="action-checkbox"'))
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
    output = run([sys.executable, "-c", textwrap.dedent(VISIT)], tmp_path)

    assert output.splitlines() == [
        "beacon 200 text/css",
        "admin 200",
        "rows 1",
        "row_shows_referrer True",
    ]
