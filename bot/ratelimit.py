"""Per-user sliding-window limit on questions, in memory (`RateLimiter`, one process) or in the
database (`SharedRateLimiter`, replicas); Telegram's flood limits are AIORateLimiter's job
(`MessageFloodLimiter`)."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import AIORateLimiter

from bot.records import RateLimitState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    """Whether a question may go ahead; if not, when to retry and whether to say so."""

    allowed: bool
    retry_after: float = 0.0
    # Only the first refusal of a burst gets a message: a flooding client should not make the
    # bot flood back.
    notify: bool = False

    @property
    def retry_seconds(self) -> int:
        return max(1, math.ceil(self.retry_after))


def decide(
    events: Sequence[float], warned: bool, now: float, limit: int, period: float
) -> tuple[Decision, list[float], bool]:
    """The sliding-window rule on one key's event times: events older than `period` seconds
    leave; with fewer than `limit` left, the event is allowed and recorded. Returns the
    decision, the events to keep and whether the key has been told it is over the limit."""
    kept = [t for t in events if t > now - period]
    if len(kept) < limit:
        return Decision(True), [*kept, now], False
    return Decision(False, kept[0] + period - now, not warned), kept, True


class RateLimiter:
    """At most `limit` events per `period` seconds per key, over a sliding window, in this
    process's memory (one bot process)."""

    def __init__(
        self,
        limit: int,
        period: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("limit must be >= 1 and period > 0")
        self.limit = limit
        self.period = period
        self._clock = clock
        self._max_keys = max_keys
        self._events: OrderedDict[int, list[float]] = OrderedDict()
        self._warned: set[int] = set()

    def check(self, key: int) -> Decision:
        """Record an event for `key` if allowed (the window is not full)."""
        events = self._events.pop(key, [])
        decision, events, warned = decide(
            events, key in self._warned, self._clock(), self.limit, self.period
        )
        self._events[key] = events  # most recently seen last, for eviction
        if warned:
            self._warned.add(key)
        else:
            self._warned.discard(key)
            self._evict()
        return decision

    async def acquire(self, key: int) -> Decision:
        """`check`, for callers that also use `SharedRateLimiter`."""
        return self.check(key)

    def _evict(self) -> None:
        while len(self._events) > self._max_keys:
            key, _ = self._events.popitem(last=False)
            self._warned.discard(key)


class SharedRateLimiter:
    """The same rule over a table every bot process reads (`bot_rate_limits`): with several
    replicas on one PostgreSQL, a user over the limit on one is over it on all. Each check is
    one transaction holding the user's row (SELECT … FOR UPDATE); times are Unix seconds.

    If the database cannot be reached the question goes ahead (logged): the search itself
    then meets the same outage and the user is told to try again.
    """

    PRUNE_EVERY = 1000  # checks between deletions of windows that have emptied

    def __init__(
        self,
        factory: sessionmaker[Session],
        limit: int,
        period: float = 60.0,
        *,
        key: Callable[[int], str] = str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("limit must be >= 1 and period > 0")
        self.factory = factory
        self.limit = limit
        self.period = period
        self._key = key
        self._clock = clock
        self._checks = 0

    def check(self, user_id: int) -> Decision:
        """Record an event for `user_id` if allowed (blocking: one database transaction)."""
        key = self._key(user_id)
        with self.factory.begin() as session:
            dialect = session.get_bind().dialect.name
            if dialect in ("postgresql", "sqlite"):
                insert = pg_insert if dialect == "postgresql" else sqlite_insert
                session.execute(
                    insert(RateLimitState)
                    .values(user_hash=key, events="[]", warned=False, updated_at=0.0)
                    .on_conflict_do_nothing()
                )
            row = session.get(RateLimitState, key, with_for_update=True)
            if row is None:  # another database: the first question of this user
                row = RateLimitState(user_hash=key, events="[]", warned=False, updated_at=0.0)
                session.add(row)
            now = self._clock()
            decision, events, warned = decide(
                json.loads(row.events), row.warned, now, self.limit, self.period
            )
            row.events, row.warned, row.updated_at = json.dumps(events), warned, now
            self._checks += 1
            if self._checks % self.PRUNE_EVERY == 0:
                session.execute(
                    delete(RateLimitState).where(RateLimitState.updated_at < now - self.period)
                )
        return decision

    async def acquire(self, user_id: int) -> Decision:
        """`check` off the event loop."""
        try:
            return await asyncio.to_thread(self.check, user_id)
        except SQLAlchemyError as exc:
            log.warning("rate limit not checked, the database failed: %s", exc.__class__.__name__)
            return Decision(True)


class Limiter(Protocol):
    """What handlers ask of a rate limiter."""

    async def acquire(self, key: int) -> Decision: ...


class MessageFloodLimiter(AIORateLimiter):
    """python-telegram-bot's flood limiter, for messages only.

    Telegram's limits are on messages: about 30 per second across chats, 20 per minute in a
    group (core.telegram.org/bots/faq, "My bot is hitting limits"). AIORateLimiter counts every
    request that names a chat, so each answer's "typing…" action (sendChatAction) took a second
    slot and capped a busy bot at 15 answers a second (benchmarks/load.py). Chat actions go
    straight through here; a refused one is not retried (the answer follows anyway).
    """

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if endpoint == "sendChatAction":
            return await callback(*args, **kwargs)
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )
