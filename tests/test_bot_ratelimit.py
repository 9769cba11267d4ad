"""The per-user sliding-window rate limit."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import pytest

from bot.ratelimit import MessageFloodLimiter, RateLimiter, SharedRateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _shared(tmp_path, clock, limit, period):
    from bot.records import create_tables
    from corpus.store import create_db_engine, init_db

    engine = create_db_engine(f"sqlite:///{tmp_path / 'limits.db'}")
    init_db(engine)
    return SharedRateLimiter(create_tables(engine), limit, period, clock=clock)


def _limiter(kind: str, tmp_path, clock, limit: int, period: float):
    if kind == "memory":
        return RateLimiter(limit, period, clock=clock)
    return _shared(tmp_path, clock, limit, period)


@pytest.mark.parametrize("kind", ["memory", "shared"])
def test_allows_limit_then_refuses_until_the_window_slides(kind, tmp_path) -> None:
    clock = Clock()
    limiter = _limiter(kind, tmp_path, clock, 3, 60)
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


@pytest.mark.parametrize("kind", ["memory", "shared"])
def test_refusals_do_not_extend_the_window(kind, tmp_path) -> None:
    clock = Clock()
    limiter = _limiter(kind, tmp_path, clock, 1, 10)
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


@pytest.mark.postgres
def test_replicas_share_one_limit_on_postgresql(postgres_url) -> None:
    """Two processes' limiters (separate engines) on one PostgreSQL: the limit is the user's,
    whichever replica answers, and concurrent checks never let more through than the limit."""
    from concurrent.futures import ThreadPoolExecutor

    from bot.records import create_tables
    from corpus.store import create_db_engine, init_db

    engines = [create_db_engine(postgres_url) for _ in range(2)]
    init_db(engines[0])
    first, second = (SharedRateLimiter(create_tables(e), 5, 60, key=str) for e in engines)
    assert first.check(1).allowed and second.check(1).allowed
    with ThreadPoolExecutor(8) as pool:
        allowed = list(pool.map(lambda i: (first, second)[i % 2].check(1).allowed, range(16)))
    assert allowed.count(True) == 3
    refused = second.check(1)
    assert not refused.allowed and not refused.notify  # told once, by whichever replica
    assert first.check(2).allowed  # other users are not affected
    for engine in engines:
        engine.dispose()


def test_a_database_outage_lets_the_question_through(tmp_path) -> None:
    """The search meets the same outage and says so; the limiter must not crash the handler."""
    limiter = _shared(tmp_path, Clock(), 1, 60)
    limiter.factory.kw["bind"].dispose()
    (tmp_path / "limits.db").unlink()
    (tmp_path / "limits.db").mkdir()  # unopenable now
    assert asyncio.run(limiter.acquire(1)).allowed
