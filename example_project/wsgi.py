from __future__ import annotations

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from lambdactr_django.beacon.fastpath import BeaconFastPath

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

application = get_wsgi_application()
if settings.BEACON_FAST_PATH == "wsgi":
    # The counter's URLs are answered here, before Django's request machinery
    # (docs/fast-path.md); every other request goes on to Django.
    application = BeaconFastPath(application)
