from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from tests import traffic


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # The rate limit counts in the cache; one test's hits must not limit the next.
    cache.clear()


@pytest.fixture(autouse=True)
def _audit_stored_rows(request: pytest.FixtureRequest) -> Iterator[None]:
    # Scan what each database test stored before its transaction is rolled back.
    uses_db = "_django_db_helper" in request.fixturenames
    if request.node.get_closest_marker("django_db") is None and not uses_db:
        yield
        return
    request.getfixturevalue("_django_db_helper")
    yield
    from lambdactr_django.conf import conf
    from lambdactr_django.models import HeaderHit

    if conf.STORE_CLIENT_IP:
        # The site owner opted in to storing addresses: not a leak.
        return
    traffic.scan_rows(request.node.nodeid, HeaderHit.objects.values())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The privacy audit reads what every other test stored: it runs last.
    items.sort(key=lambda item: item.nodeid.startswith("tests/test_privacy_audit.py"))
