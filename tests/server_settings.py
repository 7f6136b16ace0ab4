"""Settings for a real server (gunicorn) started by the tests, read from the environment."""

from __future__ import annotations

from tests.settings import *  # noqa: F403
from tests.settings import MIDDLEWARE, env

DATABASES = {"default": env.db("SERVER_DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = 60
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
if "postgresql" in DATABASES["default"]["ENGINE"]:
    DATABASES["default"]["OPTIONS"] = {"connect_timeout": 2}

MIDDLEWARE = [*MIDDLEWARE, "lambdactr_django.middleware.VaryOnRefererMiddleware"]

LAMBDACTR_SPOOL_DIR = env("LAMBDACTR_SPOOL_DIR")
LAMBDACTR_RATE_LIMIT = env.int("LAMBDACTR_RATE_LIMIT", default=0) or None
LAMBDACTR_BUFFER_SECONDS = env.float("LAMBDACTR_BUFFER_SECONDS", default=0.0) or None
LAMBDACTR_DB_TIMEOUT = env.float("LAMBDACTR_DB_TIMEOUT", default=2.0)
LAMBDACTR_INGEST_URL = env.str("LAMBDACTR_INGEST_URL", default="") or None
LAMBDACTR_INGEST_CLAIM_SECONDS = env.float("LAMBDACTR_INGEST_CLAIM_SECONDS", default=60.0)
LAMBDACTR_TRUSTED_PROXIES = env.list("LAMBDACTR_TRUSTED_PROXIES", default=[])
# example_project/wsgi.py reads it: the servers answer hits through the fast
# path, as the example project does, unless a test asks for "view".
BEACON_FAST_PATH = env.str("BEACON_FAST_PATH", default="wsgi")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"lambdactr_django": {"handlers": ["console"], "level": "INFO"}},
}
