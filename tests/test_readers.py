"""Builds yield to readers: the pause and the batch size a build gets while questions run."""

from __future__ import annotations

import threading
import time

from retrieval.readers import RECENT, Readers, YieldPolicy


def test_an_idle_library_builds_at_full_batches_without_pausing() -> None:
    readers = Readers(YieldPolicy(max_pause=5.0, busy_batch=4))
    started = time.monotonic()
    assert readers.before_batch(16) == 16
    assert time.monotonic() - started < 1.0 and readers.active == 0


def test_a_build_waits_for_searches_in_flight_then_takes_small_batches() -> None:
    readers = Readers(YieldPolicy(max_pause=5.0, busy_batch=4))
    searching, finish = threading.Event(), threading.Event()

    def search() -> None:
        with readers.reading():
            searching.set()
            finish.wait(5)

    thread = threading.Thread(target=search)
    thread.start()
    searching.wait(5)
    threading.Timer(0.3, finish.set).start()
    started = time.monotonic()
    size = readers.before_batch(16)
    waited = time.monotonic() - started
    thread.join()
    assert 0.2 < waited < 4.0  # until the search ended, not the whole max_pause
    assert size == 4  # a search ended a moment ago: more may follow
    assert readers.paused_seconds >= 0.2
    time.sleep(RECENT + 0.1)
    assert readers.before_batch(16) == 16  # quiet again


def test_a_build_under_steady_questions_still_advances() -> None:
    readers = Readers(YieldPolicy(max_pause=0.2, busy_batch=4))
    with readers.reading():  # a search that outlasts the pause
        started = time.monotonic()
        assert readers.before_batch(16) == 4
        assert 0.15 < time.monotonic() - started < 2.0


def test_without_a_policy_nothing_changes() -> None:
    readers = Readers(YieldPolicy())
    with readers.reading():
        assert readers.before_batch(16) == 16


def test_a_build_in_a_serving_process_runs_on_fewer_threads_until_it_ends() -> None:
    import torch

    before = torch.get_num_threads()
    readers = Readers(YieldPolicy(busy_threads=1))
    with readers.building():  # nothing answered yet (a CLI build): every thread
        assert torch.get_num_threads() == before
    with readers.reading():
        pass
    with readers.building():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before  # restored when the build ends
    with Readers(YieldPolicy()).building():
        assert torch.get_num_threads() == before  # no policy: untouched


def test_searches_during_a_build_run_on_fewer_threads_and_get_them_back_after() -> None:
    import torch

    before = torch.get_num_threads()
    readers = Readers(YieldPolicy(busy_threads=1))
    with readers.reading():
        pass
    seen: list[int] = []
    during, ended = threading.Event(), threading.Event()

    def search_worker() -> None:  # one thread, like the bot's: a search during, one after
        during.wait(5)
        readers.reading_threads()
        seen.append(torch.get_num_threads())
        ended.wait(5)
        readers.reading_threads()
        seen.append(torch.get_num_threads())

    worker = threading.Thread(target=search_worker)
    worker.start()
    with readers.building():
        during.set()
        while not seen:
            time.sleep(0.01)
    torch.set_num_threads(1)  # what this worker's thread count would still be
    ended.set()
    worker.join()
    assert seen == [1, before]
    torch.set_num_threads(before)
