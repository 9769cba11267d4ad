"""BM25 started ahead of the model (`retrieval.ahead.lexical_ahead`), with a stand-in index."""

from __future__ import annotations

import contextlib
import threading

import pytest

from retrieval.ahead import drop, lexical_ahead, take


class Lexical:
    def __init__(self, fail_on: str | None = None) -> None:
        self.fail_on = fail_on
        self.threads: list[str] = []
        self.asked: list[tuple[str, int]] = []

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        self.threads.append(threading.current_thread().name)
        self.asked.append((query, k))
        if query == self.fail_on:
            raise ConnectionError("server closed the connection")
        return [(len(query), float(k))]


class Version:
    def __init__(
        self, lexical: Lexical, reading_fails: bool = False, gate: threading.Event | None = None
    ) -> None:
        self.lexical = lexical
        self.reading_fails = reading_fails
        self.gate = gate  # reading waits for it: a pool with no connection free
        self.readings = 0

    @contextlib.contextmanager
    def reading(self):
        if self.gate is not None:
            assert self.gate.wait(timeout=10)
        if self.reading_fails:
            raise ConnectionError("no connection")
        self.readings += 1
        yield


def test_each_job_gets_its_ranking_from_another_thread_in_one_reading():
    lexical = Lexical()
    version = Version(lexical)
    futures = lexical_ahead(version, {3: ("أ ب", 50), 0: ("النفط", 100)})
    assert futures[3].result(timeout=5) == [(3, 50.0)]
    assert futures[0].result(timeout=5) == [(5, 100.0)]
    assert lexical.asked == [("أ ب", 50), ("النفط", 100)]  # in the order given
    assert version.readings == 1
    assert threading.current_thread().name not in lexical.threads


def test_a_failed_search_fails_it_and_every_later_job_without_running_them():
    lexical = Lexical(fail_on="ب")
    futures = lexical_ahead(Version(lexical), {0: ("أ", 50), 1: ("ب", 50), 2: ("ج", 50)})
    assert futures[0].result(timeout=5) == [(1, 50.0)]
    for i in (1, 2):
        with pytest.raises(ConnectionError, match="server closed"):
            futures[i].result(timeout=5)
    assert [q for q, _ in lexical.asked] == ["أ", "ب"]


def test_a_reading_that_cannot_start_fails_every_job():
    futures = lexical_ahead(Version(Lexical(), reading_fails=True), {0: ("أ", 50), 1: ("ب", 50)})
    for future in futures.values():
        with pytest.raises(ConnectionError, match="no connection"):
            future.result(timeout=5)


def test_no_jobs_start_no_thread():
    before = threading.active_count()
    assert lexical_ahead(Version(Lexical()), {}) == {}
    assert threading.active_count() == before


def test_a_job_not_started_is_searched_by_the_caller_and_skipped_by_the_thread():
    """The thread waits for a connection (a full pool the caller's batch helps to fill): the
    caller takes its job back instead of waiting, and the thread later runs only the rest."""
    lexical, gate = Lexical(), threading.Event()
    futures = lexical_ahead(Version(lexical, gate=gate), {0: ("أ", 50), 1: ("ب", 50)})
    assert take(futures[0], lambda: [(7, 7.0)]) == [(7, 7.0)]
    gate.set()
    assert take(futures[1], lambda: [(8, 8.0)]) in ([(1, 50.0)], [(8, 8.0)])
    _join_threads()
    assert ("أ", 50) not in lexical.asked


def _join_threads() -> None:
    for thread in threading.enumerate():
        if thread.name == "sanad-bm25":
            thread.join(timeout=5)


def test_dropped_jobs_are_not_searched():
    lexical, gate = Lexical(), threading.Event()
    futures = lexical_ahead(Version(lexical, gate=gate), {0: ("أ", 50), 1: ("ب", 50)})
    drop(futures)
    gate.set()
    assert all(f.cancelled() for f in futures.values())
    _join_threads()
    assert lexical.asked == []
