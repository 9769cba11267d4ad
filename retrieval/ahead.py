"""BM25 while the model runs. A batch's lexical searches need no question vector, so they run
on a thread of their own while the calling thread encodes the questions and searches the
vectors, and the two halves overlap: ONNX Runtime, FAISS and tantivy release the GIL, and with
PostgreSQL each half is a query on its own connection, run by its own server process.

    lexical_ahead(version, {i: (text, n)}) -> {i: Future[(passage id, BM25 score) best first]}
    take(future, search) -> the ranking (searched here if its job had not started)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future

from retrieval.backends.base import Ranked
from retrieval.index import ServedIndex


def lexical_ahead(
    version: ServedIndex, jobs: Mapping[int, tuple[str, int]]
) -> dict[int, Future[Ranked]]:
    """Start `version.lexical.search(text, n)` for each job, in order, on one new daemon thread
    inside one `version.reading()` (PostgreSQL: one connection of its own for the batch). Each
    future gets its ranking; when a search raises, that error is every unfinished future's
    (as a batch searched in one thread stops at its first error). A thread costs ~0.1 ms.

    A job not started yet can be cancelled (`Future.cancel()`), and is then skipped: the caller
    takes it back (`take`) rather than wait, e.g. while this thread waits for a connection from
    a pool the caller's own batch helps to fill, or after the caller's batch failed."""
    futures: dict[int, Future[Ranked]] = {i: Future() for i in jobs}
    if not jobs:
        return futures

    def run() -> None:
        try:
            with version.reading():
                for i, (text, n) in jobs.items():
                    if futures[i].set_running_or_notify_cancel():
                        futures[i].set_result(version.lexical.search(text, n))
        except BaseException as exc:  # handed to the caller, who raises it
            for future in futures.values():
                if not future.done():
                    future.set_exception(exc)

    threading.Thread(target=run, name="sanad-bm25", daemon=True).start()
    return futures


def take(future: Future[Ranked], search: Callable[[], Ranked]) -> Ranked:
    """The job's ranking: `search()` in this thread when the job had not started (cancelled),
    else what the job's thread gives, once it has."""
    return search() if future.cancel() else future.result()


def drop(futures: Mapping[int, Future[Ranked]]) -> None:
    """Cancel every job not started yet (the batch needs no more of them)."""
    for future in futures.values():
        future.cancel()
