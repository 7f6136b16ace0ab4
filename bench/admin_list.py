"""Time the admin's hit list on an existing database, with Django's test client.

Usage: DATABASE_URL=postgres://... .venv/bin/python bench/admin_list.py [--repeat 5]

Serves the example project's admin in-process to a superuser it makes (and
deletes again), asks for the default view of the hit list and for one site's
last 30 days, and prints for each the median time of the whole page and the
slowest queries of the last request. Fill the database first; README,
*Performance*, gives the SQL used for the published figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

import django

django.setup()

from django.test.utils import setup_test_environment  # noqa: E402

# Records the templates rendered, so the page's changelist can be read back.
setup_test_environment()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

PAGES = {
    "default view": "/admin/lambdactr_django/headerhit/",
    "site + last 30 days": "/admin/lambdactr_django/headerhit/?site=site7&when=30d",
    "page 3 of the default view": "/admin/lambdactr_django/headerhit/?p=3",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin-list", defaults={"is_staff": True, "is_superuser": True}
    )
    try:
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        for label, url in PAGES.items():
            times = []
            for _ in range(args.repeat):
                with CaptureQueriesContext(connection) as queries:
                    start = time.perf_counter()
                    response = client.get(url)
                    times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (url, response.status_code)
            count = response.context["cl"].result_count
            print(f"{label}: {statistics.median(times):.0f} ms median of {args.repeat}")
            print(f"  {url} -> result count {count}")
            slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:4]
            for query in slowest:
                print(f"  {float(query['time']) * 1000:8.1f} ms  {query['sql'][:110]}")
    finally:
        user.delete()


if __name__ == "__main__":
    main()
