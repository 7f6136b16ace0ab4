"""Settings for the example site, read from the environment (django-environ).

Defaults suit a laptop: SQLite, DEBUG on. In production set DEBUG=False,
SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL.
"""

from __future__ import annotations

from pathlib import Path

import django
import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env(
    DEBUG=(bool, True),
    ALLOWED_HOSTS=(list, ["localhost", "127.0.0.1", "[::1]"]),
    LAMBDACTR_BASE_URL=(str, None),
)
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env("DEBUG")
# Only a development default: with DEBUG off a real SECRET_KEY is required.
SECRET_KEY = env("SECRET_KEY", default="dev-only-not-secret" if DEBUG else environ.Env.NOTSET)
ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "lambdactr_django",
    "example_project",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Pages with the counter's tag carry the visitor's referrer: Vary: Referer.
    "lambdactr_django.middleware.VaryOnRefererMiddleware",
]

# How beacon requests reach the counter (docs/fast-path.md): "wsgi" (the
# default) answers them in wsgi.py before Django's request machinery,
# "middleware" from the first middleware, "view" through the whole stack.
BEACON_FAST_PATH = env.str("BEACON_FAST_PATH", default="wsgi")
if BEACON_FAST_PATH not in {"wsgi", "middleware", "view"}:
    raise ImproperlyConfigured(
        f"BEACON_FAST_PATH should be wsgi, middleware or view, not {BEACON_FAST_PATH!r}"
    )
if BEACON_FAST_PATH == "middleware":
    MIDDLEWARE.insert(0, "lambdactr_django.beacon.fastpath.BeaconFastPathMiddleware")

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "example_project" / "templates"],
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

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'example.sqlite3'}")}
# The beacon keeps its connection between requests instead of reconnecting.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# A SELECT 1 before each request's first query, to survive a database restart.
# The beacon skips it (a round trip per hit, docs/performance-profile.md) and
# replaces a dead connection itself; the admin keeps it.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
if "sqlite" in DATABASES["default"]["ENGINE"]:
    # WAL: one fsync per hit instead of four, and readers never block the
    # writer; with the default journal the workers queue on the database lock
    # (docs/performance-profile.md).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "init_command", "PRAGMA journal_mode=WAL;"
    )
if "postgresql" in DATABASES["default"]["ENGINE"]:
    # While the database is unreachable a beacon request waits at most this long.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# From the environment too, so a test run can collect into a temporary directory.
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

LAMBDACTR_BASE_URL = env("LAMBDACTR_BASE_URL")
# Hits that arrive while the database is down wait here for it.
LAMBDACTR_SPOOL_DIR = env("LAMBDACTR_SPOOL_DIR", default=str(BASE_DIR / "spool"))
# Seconds between batched writes of the hits; unset (the default) stores each
# hit before answering. Needs the spool directory, where the journal lives.
LAMBDACTR_BUFFER_SECONDS = env.float("LAMBDACTR_BUFFER_SECONDS", default=0.0) or None
# A Redis Stream the beacon appends hits to, for lambdactr_ingest to store
# (docs/scaling.md); unset, the beacon stores them itself.
LAMBDACTR_INGEST_URL = env.str("LAMBDACTR_INGEST_URL", default="") or None
# Per client address per minute; None turns the limit off. The default cache
# is per process: with several workers use a shared one (Redis, Memcached).
LAMBDACTR_RATE_LIMIT = env.int("LAMBDACTR_RATE_LIMIT", default=300) or None
# Where this site's admin is reached, e.g. https://www.example.com: the e-mail
# digest (lambdactr_email) links to the statistics page under it.
LAMBDACTR_SITE_URL = env("LAMBDACTR_SITE_URL", default=None)
# Serves /bench/empty.css, the benchmark's baseline (bench/run); off on a real site.
BENCH_BASELINE = env.bool("BENCH_BASELINE", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"lambdactr_django": {"handlers": ["console"], "level": "INFO"}},
}

# Django 6.1 sends e-mail through MAILERS (the digest, lambdactr_email); without
# it every message warns that Django 2028 will have no default mailer.
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend"}}
