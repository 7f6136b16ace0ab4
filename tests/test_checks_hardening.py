from __future__ import annotations

import pytest

from tests.test_checks_reliability import ids


@pytest.mark.parametrize("value", [0, -1, "30", None, 601, True])
def test_e301_replay_timeout(value: object) -> None:
    assert ids(LAMBDACTR_REPLAY_TIMEOUT=value) == ["lambdactr_django.E301"]
