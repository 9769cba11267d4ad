"""Builds yield to readers: an index build that encodes passages gives way to questions.

Questions and a build share two cores and one model. `Readers` counts the searches in flight;
before each batch of passages the build asks it how to go on (`before_batch`): wait for the
questions to finish (at most `YieldPolicy.max_pause` seconds, so a build under steady load
still advances), then encode a smaller batch while questions keep coming (a question that
arrives meanwhile waits behind fewer passages). benchmarks/build_yield.py measures the policies
against each other.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class YieldPolicy:
    """How a build gives way to questions.

    max_pause: seconds a batch of passages waits at most for the searches in flight to end.
    busy_batch: passages per encoder call when a search ran during the last RECENT seconds.
    """

    max_pause: float = 0.0
    busy_batch: int | None = None


NO_YIELD = YieldPolicy()
# Chosen with benchmarks/build_yield.py (bundled corpus, a full re-embed while 20 questions/s
# are asked, one run): see the README's "Many users at once".
DEFAULT_YIELD = YieldPolicy(max_pause=1.0, busy_batch=4)
RECENT = 0.5  # seconds after a search during which the build still counts as contended


class Readers:
    """Searches in flight, for builds that yield to them (`YieldPolicy`)."""

    def __init__(self, policy: YieldPolicy = DEFAULT_YIELD) -> None:
        self.policy = policy
        self._active = 0
        self._last_end = float("-inf")
        self._idle = threading.Condition()
        self.paused_seconds = 0.0  # total time builds waited for questions

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Count a search as in flight for its duration."""
        with self._idle:
            self._active += 1
        try:
            yield
        finally:
            with self._idle:
                self._active -= 1
                self._last_end = time.monotonic()
                if not self._active:
                    self._idle.notify_all()

    @property
    def active(self) -> int:
        return self._active

    def before_batch(self, batch: int) -> int:
        """Called by a build before it encodes a batch: waits as the policy says while
        searches run, and returns how many passages (of `batch`) to encode now."""
        policy = self.policy
        started = time.monotonic()
        with self._idle:
            if policy.max_pause > 0 and self._active:
                self._idle.wait_for(lambda: not self._active, timeout=policy.max_pause)
            contended = self._active > 0 or time.monotonic() - self._last_end < RECENT
        self.paused_seconds += time.monotonic() - started
        if contended and policy.busy_batch is not None:
            return max(1, min(batch, policy.busy_batch))
        return batch
