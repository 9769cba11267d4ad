"""Builds yield to readers: an index build that encodes passages gives way to questions.

Questions and a build share two cores and one model. `Readers` counts the searches in flight;
before each batch of passages the build asks it how to go on (`before_batch`). The policy can
give a build in a serving process one torch thread (a build and a question with two threads
each oversubscribe two cores), wait for the questions in flight to finish (at most `max_pause`
seconds, so a build under steady load still advances) and encode smaller batches while
questions keep coming (one arriving meanwhile waits behind fewer passages).
benchmarks/build_yield.py measures them against each other; fewer threads won (README, "Many
users at once").
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

    busy_threads: torch threads of a build in a process that answers questions.
    A build is contended while a search runs or ran during the last RECENT seconds; then
    max_pause: seconds a batch of passages waits at most for the searches in flight to end;
    busy_batch: passages per encoder call.
    """

    busy_threads: int | None = None
    max_pause: float = 0.0
    busy_batch: int | None = None


NO_YIELD = YieldPolicy()
# Chosen with benchmarks/build_yield.py (bundled corpus, a full re-embed while 10 questions/s
# are asked): see the README's "Many users at once".
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
        self._building = 0  # builds encoding with busy_threads
        self._normal_threads: int | None = None  # torch threads before the first such build
        self._local = threading.local()  # the count a search thread last set

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

    @contextlib.contextmanager
    def building(self) -> Iterator[None]:
        """Around a build's encoding, in the thread that encodes: in a process that answers
        questions the build runs on `busy_threads` torch threads, and so do searches meanwhile
        (`reading_threads`); when it ends, every thread gets its count back."""
        threads = self.policy.busy_threads
        if threads is None or not self.served:
            yield
            return
        import torch

        with self._idle:
            if self._normal_threads is None:
                self._normal_threads = torch.get_num_threads()
            normal = self._normal_threads
            self._building += 1
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            with self._idle:
                self._building -= 1
                torch.set_num_threads(normal)

    def reading_threads(self) -> None:
        """Before a search's model work, in its thread: `busy_threads` torch threads while a
        build encodes, the usual count otherwise (torch's count is per thread; this one sets
        it only when it must change)."""
        busy, normal = self.policy.busy_threads, self._normal_threads
        if busy is None or normal is None:
            return  # no build has changed anything yet
        import torch

        with self._idle:  # a build cannot end between the check and the setting
            wanted = busy if self._building else normal
            if getattr(self._local, "threads", None) != wanted or torch.get_num_threads() != wanted:
                torch.set_num_threads(wanted)
                self._local.threads = wanted

    @property
    def served(self) -> bool:
        """Whether this process has answered a question (a bot has; a CLI build has not)."""
        return self._last_end > float("-inf") or self._active > 0
