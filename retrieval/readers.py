"""Builds yield to readers: an index build that encodes passages gives way to questions.

Questions and a build share two cores and one model. `Readers` counts the searches in flight;
before each batch of passages the build asks it how to go on (`before_batch`). The policy can
give the model one thread while questions are being asked (two threads each for a build and a
question oversubscribe two cores), wait for the questions in flight to finish (at most
`max_pause` seconds, so a build under steady load still advances) and encode smaller batches
(a question that arrives meanwhile waits behind fewer passages). benchmarks/build_yield.py
measures them against each other; fewer threads won (README, "Many users at once").
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

    A build is contended while a search runs or ran during the last RECENT seconds; then:
    busy_threads: torch threads for the whole process (questions included) while it encodes.
    max_pause: seconds a batch of passages waits at most for the searches in flight to end.
    busy_batch: passages per encoder call.
    """

    busy_threads: int | None = None
    max_pause: float = 0.0
    busy_batch: int | None = None


NO_YIELD = YieldPolicy()
# Chosen with benchmarks/build_yield.py (bundled corpus, a full re-embed while 10 questions/s
# are asked, one run): question p95 194 ms against 373 without yielding (151 with no build),
# for a build 1.99x as long as alone against 1.90x.
DEFAULT_YIELD = YieldPolicy(busy_threads=1)
RECENT = 0.5  # seconds after a search during which the build still counts as contended


class Readers:
    """Searches in flight, for builds that yield to them (`YieldPolicy`)."""

    def __init__(self, policy: YieldPolicy = DEFAULT_YIELD) -> None:
        self.policy = policy
        self._active = 0
        self._last_end = float("-inf")
        self._idle = threading.Condition()
        self.paused_seconds = 0.0  # total time builds waited for questions
        self._threads_before: int | None = None  # torch threads to restore after a build

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
        if policy.busy_threads is not None:
            self._set_threads(policy.busy_threads if contended else None)
        if contended and policy.busy_batch is not None:
            return max(1, min(batch, policy.busy_batch))
        return batch

    @contextlib.contextmanager
    def building(self) -> Iterator[None]:
        """Around a build's encoding: the model's thread count is restored when it ends."""
        try:
            yield
        finally:
            self._set_threads(None)

    def _set_threads(self, threads: int | None) -> None:
        """Give torch `threads` threads (process-wide), or None: the count from before."""
        import torch

        if threads is None:
            if self._threads_before is not None:
                torch.set_num_threads(self._threads_before)
                self._threads_before = None
            return
        if self._threads_before is None:
            self._threads_before = torch.get_num_threads()
        torch.set_num_threads(threads)
