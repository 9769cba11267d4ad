"""BM25 while the model runs. A batch's lexical searches need no question vector, so they run
on a thread of their own while the calling thread encodes the questions and searches the
vectors, and the two halves overlap: ONNX Runtime, FAISS and tantivy release the GIL, and with
PostgreSQL each half is a query on its own connection, run by its own server process.

    lexical_ahead(version, {i: (text, n)}) -> {i: Future[(passage id, BM25 score) best first]}
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import Future

from retrieval.backends.base import Ranked
from retrieval.index import ServedIndex


def lexical_ahead(
    version: ServedIndex, jobs: Mapping[int, tuple[str, int]]
) -> dict[int, Future[Ranked]]:
    """Start `version.lexical.search(text, n)` for each job, in order, on one new daemon thread
    inside one `version.reading()` (PostgreSQL: one connection of its own for the batch). Each
    future gets its ranking; when a search raises, that error is every unfinished future's
    (as a batch searched in one thread stops at its first error). A thread costs ~0.1 ms."""
    futures: dict[int, Future[Ranked]] = {i: Future() for i in jobs}
    if not jobs:
        return futures

    def run() -> None:
        try:
            with version.reading():
                for i, (text, n) in jobs.items():
                    futures[i].set_result(version.lexical.search(text, n))
        except BaseException as exc:  # handed to the caller, who raises it
            for future in futures.values():
                if not future.done():
                    future.set_exception(exc)

    threading.Thread(target=run, name="sanad-bm25", daemon=True).start()
    return futures
