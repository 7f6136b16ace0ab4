"""Settings for bench/stats_scale.py: the example project, with the counter's
tables on one of two PostgreSQL databases chosen per measurement
(LAMBDACTR_DATABASE through the CounterRouter), users and sessions on SQLite."""

from __future__ import annotations

import os
import tempfile

import environ

from example_project.settings import *  # noqa: F403

DEBUG = False
SECRET_KEY = "bench-stats-scale-not-secret"
ALLOWED_HOSTS = ["*"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(tempfile.gettempdir(), f"lambdactr-bench-{os.getpid()}.sqlite3"),
    },
    "small": environ.Env.db_url_config(os.environ["BENCH_SMALL_URL"]),
    "large": environ.Env.db_url_config(os.environ["BENCH_LARGE_URL"]),
}
DATABASE_ROUTERS = ["lambdactr_django.routers.CounterRouter"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LAMBDACTR_SPOOL_DIR = None
# Static files are not measured; WhiteNoise would only warn about their directory.
MIDDLEWARE = [name for name in MIDDLEWARE if "whitenoise" not in name]  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": False}
