"""Per-user sliding-window limit on questions; Telegram's flood limits are AIORateLimiter's job
(`MessageFloodLimiter`)."""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram.ext import AIORateLimiter


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


class RateLimiter:
    """At most `limit` events per `period` seconds per key, over a sliding window."""

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
        self._events: OrderedDict[int, deque[float]] = OrderedDict()
        self._warned: set[int] = set()

    def check(self, key: int) -> Decision:
        """Record an event for `key` if allowed (the window is not full)."""
        now = self._clock()
        events = self._events.pop(key, None) or deque()
        while events and events[0] <= now - self.period:
            events.popleft()
        self._events[key] = events  # most recently seen last, for eviction
        if len(events) < self.limit:
            events.append(now)
            self._warned.discard(key)
            self._evict()
            return Decision(True)
        notify = key not in self._warned
        self._warned.add(key)
        return Decision(False, events[0] + self.period - now, notify)

    def _evict(self) -> None:
        while len(self._events) > self._max_keys:
            key, _ = self._events.popitem(last=False)
            self._warned.discard(key)


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
