"""The per-user sliding-window rate limit."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import pytest

from bot.ratelimit import MessageFloodLimiter, RateLimiter


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


@pytest.mark.asyncio
async def test_flood_limiter_counts_messages_and_lets_chat_actions_through() -> None:
    limiter = MessageFloodLimiter(overall_max_rate=1, overall_time_period=60)
    await limiter.initialize()
    sent: list[str] = []

    def call(endpoint: str) -> Awaitable[object]:
        async def callback() -> bool:
            sent.append(endpoint)
            return True

        data = {"chat_id": 42}
        return limiter.process_request(callback, (), {}, endpoint, data, None)

    await asyncio.wait_for(call("sendMessage"), 1)  # the one message slot of this minute
    for _ in range(5):  # typing actions do not wait for a slot
        await asyncio.wait_for(call("sendChatAction"), 1)
    second = asyncio.ensure_future(call("sendMessage"))
    await asyncio.sleep(0.3)
    assert not second.done()  # a second message waits for the next slot
    second.cancel()
    assert sent == ["sendMessage"] + ["sendChatAction"] * 5
    await limiter.shutdown()
