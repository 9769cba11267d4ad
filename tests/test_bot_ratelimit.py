"""The per-user sliding-window rate limit."""

from __future__ import annotations

import pytest

from bot.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_allows_limit_then_refuses_until_the_window_slides() -> None:
    clock = Clock()
    limiter = RateLimiter(3, 60, clock=clock)
    assert all(limiter.check(1).allowed for _ in range(3))
    refused = limiter.check(1)
    assert not refused.allowed and refused.notify
    assert refused.retry_after == pytest.approx(60) and refused.retry_seconds == 60
    assert limiter.check(2).allowed  # other users are not affected
    clock.now += 30
    again = limiter.check(1)
    assert not again.allowed and not again.notify  # told once per burst, not every time
    assert again.retry_seconds == 30
    clock.now += 30.001
    assert limiter.check(1).allowed
    assert limiter.check(1).allowed and limiter.check(1).allowed
    refused = limiter.check(1)
    assert not refused.allowed and refused.notify  # a new burst is announced again


def test_refusals_do_not_extend_the_window() -> None:
    clock = Clock()
    limiter = RateLimiter(1, 10, clock=clock)
    assert limiter.check(7).allowed
    for _ in range(5):
        clock.now += 1
        assert not limiter.check(7).allowed
    clock.now += 5
    assert limiter.check(7).allowed


def test_idle_users_are_evicted() -> None:
    limiter = RateLimiter(1, 60, clock=Clock(), max_keys=100)
    for user in range(1000):
        limiter.check(user)
    assert len(limiter._events) == 100
    assert limiter.check(0).allowed  # forgotten, so allowed again


def test_rejects_nonsense_configuration() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)
