from __future__ import annotations

import re
import uuid

import pytest

from lambdactr_django.capture import Hit
from lambdactr_django.fastinsert import insert_hit
from lambdactr_django.models import HeaderHit

HIT = Hit(
    site="blog.example",
    path="/posts/ünïcode/",
    referrer="https://news.example/?utm_source=x",
    user_agent="Mozilla/5.0 Test",
    verified=False,
    headers={"User-Agent": "Mozilla/5.0 Test", "Accept-Language": "de", "X-Quote": "a\"b'c\\"},
)


@pytest.mark.django_db
def test_stores_what_create_stores(django_assert_num_queries):
    with django_assert_num_queries(1):
        insert_hit(HIT)
    HeaderHit.objects.create_from_hit(HIT)

    fast, slow = HeaderHit.objects.order_by("created_at")
    assert isinstance(fast.id, uuid.UUID)
    assert fast.id != slow.id
    assert fast.created_at <= slow.created_at
    columns = ["site", "path", "referrer", "user_agent", "verified", "headers"]
    assert [getattr(fast, c) for c in columns] == [getattr(slow, c) for c in columns]


@pytest.mark.django_db
def test_makes_a_fresh_key_each_time():
    insert_hit(HIT)
    insert_hit(HIT)

    assert HeaderHit.objects.values("id").distinct().count() == 2


@pytest.mark.django_db
def test_raw_columns_match_create(stored_text):
    # The bytes in the database, not just the model's reading of them: a key
    # stored as text where Django stores hex, say, would differ here.
    insert_hit(HIT)
    fast = stored_text()
    HeaderHit.objects.all().delete()
    HeaderHit.objects.create_from_hit(HIT)
    slow = stored_text()

    def shape(text: str) -> str:
        # Keys and timestamps differ by nature; compare everything else.
        text = re.sub(r"UUID\('[0-9a-f-]{36}'\)|'[0-9a-f]{32}'", "KEY", text)
        return re.sub(r"datetime\.datetime\([^)]*\)\)?|'\d{4}-\d\d-\d\d[ T][\d:.]+'", "WHEN", text)

    assert shape(fast) == shape(slow)
