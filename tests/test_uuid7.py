from __future__ import annotations

import time
import uuid

from lambdactr_django.uuid7 import uuid7

RANDOM_BITS = [*range(62), *range(64, 76)]  # rand_b, then rand_a


def test_a_uuid7_of_the_rfc_variant() -> None:
    key = uuid7()

    assert key.version == 7
    assert key.variant == uuid.RFC_4122


def test_starts_with_the_time_in_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    key = uuid7()
    after = time.time_ns() // 1_000_000

    assert before <= key.int >> 80 <= after


def test_keys_made_later_sort_later() -> None:
    first = uuid7()
    time.sleep(0.002)
    second = uuid7()

    assert first < second
    assert str(first) < str(second)


def test_every_bit_after_the_timestamp_is_random() -> None:
    # A counter (as Python 3.14's uuid.uuid7 keeps within a millisecond) or a
    # constant would leave some of these bits the same across keys made in a
    # burst; 2,000 random keys leave a given bit constant with odds 2**-1999.
    keys = [uuid7().int for _ in range(2000)]

    assert len(set(keys)) == len(keys)
    for bit in RANDOM_BITS:
        ones = sum(key >> bit & 1 for key in keys)
        assert 800 < ones < 1200, f"bit {bit} set in {ones} of 2000 keys"
