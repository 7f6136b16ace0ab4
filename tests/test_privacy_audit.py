"""Runs last (see conftest): no stored row holds a credential or a client address.

Every database test's rows were scanned before its rollback, and the real-server
tests scanned their databases before dropping them; here the findings are read.
"""

from __future__ import annotations

import pytest
from django.test import Client

from lambdactr_django.models import HeaderHit
from tests import traffic


@pytest.mark.django_db
def test_no_stored_row_holds_a_secret_or_a_client_address() -> None:
    # This test's own traffic: every secret in every place a browser could put it.
    for address in traffic.CLIENT_ADDRESSES:
        client = Client(REMOTE_ADDR=address)
        client.cookies["sessionid"] = traffic.COOKIE_VALUE
        client.cookies["csrftoken"] = traffic.CSRF_TOKEN
        response = client.get(
            "/ctr/s.css",
            HTTP_REFERER="https://blog.example/audit/",
            **traffic.secret_meta(),
        )
        assert response.status_code == 200
    own_rows = list(HeaderHit.objects.values())
    assert len(own_rows) == len(traffic.CLIENT_ADDRESSES)

    traffic.scan_rows("privacy audit", own_rows)
    print(
        f"\nprivacy audit: {traffic.audit.rows} rows scanned from "
        f"{len(traffic.audit.sources)} tests, {len(traffic.audit.matches)} secrets found"
    )

    assert traffic.audit.matches == []


@pytest.mark.django_db
def test_the_audit_finds_a_planted_secret() -> None:
    # The scan itself must be able to fail.
    HeaderHit.objects.create(headers={"X-Leak": f"Bearer {traffic.AUTHORIZATION_VALUE}"})
    planted = traffic.Audit()
    saved, traffic.audit = traffic.audit, planted
    try:
        traffic.scan_rows("planted", HeaderHit.objects.values())
    finally:
        traffic.audit = saved
        HeaderHit.objects.all().delete()

    assert planted.matches == [("planted", traffic.AUTHORIZATION_VALUE)]
