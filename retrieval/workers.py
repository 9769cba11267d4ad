"""Searches in processes of their own: a serving process's questions off its GIL.

A bot answers each question with Python (receiving and sending Telegram messages, ranking,
choosing sentences) and the model; in one process all of that Python takes turns on one GIL,
which caps a 2-core machine at ~24 answered questions/s however the work is batched
(benchmarks/load.py). `SearchProcesses` runs `Library.search_many` in `processes` worker
processes, each with the library opened read-only (its own model and index, ~0.5 GB) and
`threads` torch threads: one each for two processes on two cores (two each oversubscribe them:
measured 16.5 answered/s against 30.9). Each worker serves what any process commits: the index
follows the catalog (the embedded backend) or reads the tables (pgvector) at every batch, and
reloads when a rebuild switches generations.

`start` starts the workers and waits until each has opened the library; before that, and
while a crashed worker is replaced (in the background), `search_many` raises `NotStarted` and
the caller searches in its own process. A worker that dies takes its batch with it
(`RetrievalError`), never the caller.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import CancelledError, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

from retrieval.errors import RetrievalError
from retrieval.query import Query
from retrieval.settings import LibrarySettings
from retrieval.types import Hit

if TYPE_CHECKING:
    from retrieval.library import Library

log = logging.getLogger(__name__)
START_TIMEOUT = 600.0  # seconds for every worker to load the model and open the library
# Seconds `close` waits for the workers to exit. Waiting matters: a pool left shutting down
# when the interpreter exits races CPython 3.11's exit hook, which then writes to the pool's
# closed wake-up pipe ("OSError: [Errno 9] Bad file descriptor" traceback at exit).
STOP_TIMEOUT = 10.0
# Worker processes of a serving process, one torch thread each: one per core of this project's
# 2-core machine (benchmarks/load.py at 40 questions/s: 1 process 22.1 answered/s, 2 processes
# 30.9, 3 processes 29.4; 2 processes of 2 threads 16.5).
PROCESSES = 2
THREADS = 1

_library: Library | None = None  # a worker process's own


def _open(settings: LibrarySettings, threads: int) -> None:
    """Worker initializer: torch threads, then the library (no build: the caller's job),
    warmed (`Library.warm`): a worker's first question is no slower than the next."""
    import torch

    from retrieval.library import Library

    global _library
    torch.set_num_threads(threads)
    library = Library.open(settings)
    library.warm()
    _library = library


def _pid_when_open(hold: float) -> int:
    """This worker's pid, once its library is open (the initializer ran), after `hold`
    seconds: a busy worker leaves the other start-up tasks to the workers still loading."""
    if _library is None:
        raise RetrievalError("search worker has no library")
    time.sleep(hold)
    return os.getpid()


def _search_many(queries: Sequence[Query]) -> list[list[Hit] | RetrievalError]:
    if _library is None:
        raise RetrievalError("search worker has no library")
    return _library.search_many(queries)


class NotStarted(RetrievalError):
    """The worker processes are not (or no longer) all up: search in this process."""


class SearchProcesses:
    """`processes` worker processes answering `search_many` batches, `threads` torch threads
    each; thread-safe (one batch per worker at a time, more wait for a free one)."""

    def __init__(
        self, settings: LibrarySettings, processes: int = PROCESSES, threads: int = THREADS
    ) -> None:
        if processes < 1 or threads < 1:
            raise ValueError("processes and threads must be >= 1")
        self.settings = settings
        self.processes = processes
        self.threads = threads
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._ready = False
        self._closed = False

    @property
    def ready(self) -> bool:
        """Whether every worker has opened the library."""
        return self._ready

    def start(self) -> None:
        """Start the workers and wait until each has opened the library (seconds: a model
        load each). Raises what opening raised (e.g. StoreUnavailable); the caller keeps
        searching in its own process meanwhile, and may call `start` again."""
        with self._lock:
            if self._closed:
                raise NotStarted("search processes closed")
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_open,
                    initargs=(self.settings, self.threads),
                )
            pool = self._pool
        # A pool starts a worker for a task when none is idle; a worker takes tasks once its
        # initializer has run. Ask until every worker has answered.
        seen: set[int] = set()
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while len(seen) < self.processes:
                if time.monotonic() > deadline:
                    raise NotStarted(f"search workers not up after {START_TIMEOUT:.0f} s")
                asked = [pool.submit(_pid_when_open, 0.2) for _ in range(self.processes)]
                seen.update(f.result() for f in asked)
        except BrokenProcessPool as exc:
            self._replace(pool)
            raise NotStarted("a search worker failed to start (see its log)") from exc
        except (RuntimeError, CancelledError) as exc:  # closed meanwhile: submit refused
            if self._pool is pool:
                raise
            raise NotStarted("search processes closed while starting") from exc
        with self._lock:
            self._ready = self._pool is pool
        log.info("%d search processes ready", self.processes)

    def search_many(self, queries: Sequence[Query]) -> list[list[Hit] | RetrievalError]:
        """`Library.search_many(queries)` in a worker. Raises NotStarted before `start` has
        finished (and while a crashed worker's pool is replaced), RetrievalError when the
        worker died on this batch."""
        with self._lock:
            pool = self._pool if self._ready else None
        if pool is None:
            raise NotStarted("search processes not ready")
        try:
            return pool.submit(_search_many, list(queries)).result()
        except BrokenProcessPool as exc:
            log.error("a search process died; starting new ones")
            self._replace(pool)
            self.start_in_background()
            raise RetrievalError("the search process failed") from exc

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        """Drop and stop `broken` if it is still this object's pool; if not, whoever took it
        (`close`, or another caller that saw it break) stops it: one pool shut down from two
        threads at once closes its wake-up pipe twice (OSError: Bad file descriptor)."""
        with self._lock:
            if self._pool is not broken:
                return
            self._pool, self._ready = None, False
        _stop(broken, STOP_TIMEOUT)

    def start_in_background(self) -> threading.Thread:
        """`start` on a thread of its own (returned, started); a failure is logged (searches
        stay in the caller's process)."""
        thread = threading.Thread(target=self._restart, name="search-processes", daemon=True)
        thread.start()
        return thread

    def _restart(self) -> None:
        try:
            self.start()
        except RetrievalError as exc:
            if not self._closed:  # closed meanwhile: the bot is stopping, nothing to tell
                log.error("search processes not started: %s", exc)

    def close(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop the workers: batches not yet started are cancelled, one under way finishes
        (milliseconds); waits up to `timeout` seconds for the workers to exit, then kills
        those left."""
        with self._lock:
            self._closed, self._ready = True, False
            pool, self._pool = self._pool, None
        if pool is not None:
            _stop(pool, timeout)


def _stop(pool: ProcessPoolExecutor, timeout: float) -> None:
    """Shut `pool` down (batches not started are cancelled), waiting up to `timeout` seconds
    for its processes to exit, then killing those left (see STOP_TIMEOUT)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    stopping = threading.Thread(
        target=pool.shutdown, kwargs={"wait": True, "cancel_futures": True}, daemon=True
    )
    stopping.start()
    stopping.join(timeout)
    if stopping.is_alive():
        log.warning("search processes still busy after %.0f s; killing them", timeout)
        for process in processes:
            process.kill()
        stopping.join(timeout)
