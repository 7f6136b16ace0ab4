"""Settings for the test suite. DATABASE_URL chooses the database (SQLite by default)."""

from __future__ import annotations

import atexit
import shutil
import tempfile

import django
import environ

env = environ.Env()

SECRET_KEY = "lambdactr-tests-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1", "blog.example", "counter.example"]

DATABASES = {"default": env.db("DATABASE_URL", default="sqlite://:memory:")}
if "postgresql" in DATABASES["default"]["ENGINE"]:
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 2
# A second database for the tests of LAMBDACTR_DATABASE (tests/test_routers.py).
# Its test database is created only when a collected test asks for it. On
# SQLite each alias's test database is its own in-memory one; elsewhere it needs
# a name of its own, or Django would take both aliases for one database.
DATABASES["counter"] = {**DATABASES["default"]}
if "sqlite" not in DATABASES["default"]["ENGINE"]:
    DATABASES["counter"]["NAME"] = f"{DATABASES['default']['NAME']}_counter"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "lambdactr_django",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tests.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "static/"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tests that look into the spool override this with their own directory.
LAMBDACTR_SPOOL_DIR = tempfile.mkdtemp(prefix="lambdactr-test-spool-")
atexit.register(shutil.rmtree, LAMBDACTR_SPOOL_DIR, ignore_errors=True)

# Django 6.1 sends e-mail through MAILERS (the digest, lambdactr_email); without
# it every message warns that Django 2028 will have no default mailer.
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend"}}
