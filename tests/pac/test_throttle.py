"""LoginThrottle on a clock the test moves: the window slides, Retry-After is the wait until one more
attempt is allowed, usernames are case-insensitive, and memory stays bounded."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from timbra.clock import FixedClock
from timbra.errors import TimbraError
from timbra.pac.throttle import LoginThrottle


def retry_after(t: LoginThrottle, **who) -> int | None:
    try:
        t.check(**who)
    except TimbraError as exc:
        assert exc.code == "T150"
        return exc.detail["retry_after"]
    return None


def test_the_window_slides():
    clock = FixedClock(datetime(2026, 11, 24, 18, tzinfo=timezone.utc))
    t = LoginThrottle(clock, per_user=3, per_client=100, window_seconds=60)
    for _ in range(3):
        assert retry_after(t, username="Ana") is None
        t.failed(client="a", username="Ana")
        clock.advance(seconds=10)
    assert retry_after(t, username="ana ") == 30  # the first failure leaves the window 60 s after it
    clock.advance(seconds=30)
    assert retry_after(t, username="ana") is None
    t.succeeded("ANA")
    t.failed(username="ana")
    t.failed(username="ana")
    assert retry_after(t, username="ana") is None  # the success cleared the older ones


def test_per_client_whatever_the_username():
    clock = FixedClock(datetime(2026, 11, 24, 18, tzinfo=timezone.utc))
    t = LoginThrottle(clock, per_user=100, per_client=2, window_seconds=60)
    t.failed(client="10.0.0.1", username="a")
    t.failed(client="10.0.0.1", username="b")
    assert retry_after(t, client="10.0.0.1", username="c") == 60
    assert retry_after(t, client="10.0.0.2", username="c") is None


@pytest.mark.parametrize("keys", [10])
def test_memory_is_bounded(keys: int):
    t = LoginThrottle(FixedClock(datetime(2026, 11, 24, tzinfo=timezone.utc)), max_keys=keys)
    for i in range(100):
        t.failed(client=f"c{i}", username=f"u{i}")
    assert len(t._failures) <= keys
