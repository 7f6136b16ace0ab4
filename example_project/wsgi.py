from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from lambdactr_django.beacon.fastpath import BeaconFastPath

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

application: Any = get_wsgi_application()
# getattr: the tests' servers load this module with settings of their own.
if getattr(settings, "BEACON_FAST_PATH", "wsgi") == "wsgi":
    # The counter's URLs are answered here, before Django's request machinery
    # (docs/fast-path.md); every other request goes on to Django.
    application = BeaconFastPath(application)


def _plain_limit(django: Any) -> Any:
    # bench/run's ceiling: an empty stylesheet from a bare WSGI callable in the
    # same server, no Django at all. No beacon, however fast, can beat it.
    def serve(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/bench/plain.css":
            return django(environ, start_response)
        start_response(
            "200 OK",
            [
                ("Content-Type", "text/css"),
                ("Cache-Control", "no-cache, no-store, must-revalidate"),
                ("Content-Length", "0"),
            ],
        )
        return [b""]

    return serve


if getattr(settings, "BENCH_BASELINE", False):
    application = _plain_limit(application)
