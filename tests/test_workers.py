"""Searches in worker processes (retrieval/workers.py): the real model in each, a real index."""

from __future__ import annotations

import itertools
import logging
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from retrieval import workers
from retrieval.errors import EmptyQuery, RetrievalError
from retrieval.library import Library
from retrieval.query import Query
from retrieval.settings import LibrarySettings
from retrieval.types import Hit
from retrieval.workers import NotStarted, SearchProcesses
from tests.conftest import DEMO, SEED

QUESTION = "ما الذي اتفق عليه الجانبان بشأن الهجرة غير الشرعية؟"


def _demo_lines(path: Path, count: int, skip: int = 0) -> Path:
    with DEMO.open(encoding="utf-8") as lines:
        path.write_text("".join(itertools.islice(lines, skip, skip + count)), encoding="utf-8")
    return path


def _shown(hits: list[Hit] | RetrievalError) -> object:
    if isinstance(hits, RetrievalError):
        return type(hits)
    return [(h.passage_id, h.answer_span, round(h.score, 4)) for h in hits]


def _until(check, seconds: float = 300.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_worker_processes_answer_as_this_process_does_serve_new_articles_and_survive_a_crash(
    tmp_path: Path, real_encoder
) -> None:
    settings = LibrarySettings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", index_dir=tmp_path / "index"
    )
    library = Library.open(settings, encoder=real_encoder)
    library.ingest_paths([SEED, _demo_lines(tmp_path / "some.jsonl", 6)])
    library.build()
    processes = SearchProcesses(settings, processes=1)
    queries = [Query(QUESTION, 3), Query("؟"), Query("البحرين تدين", 2, "lexical")]
    with pytest.raises(NotStarted):  # not started: the caller searches in its own process
        processes.search_many(queries)
    try:
        processes.start()
        assert processes.ready
        remote, local = processes.search_many(queries), library.search_many(queries)
        assert [_shown(r) for r in remote] == [_shown(r) for r in local]
        assert isinstance(remote[1], EmptyQuery) and remote[0]
        assert "ليبيا" in remote[0][0].title or "مالطا" in remote[0][0].title

        # an article this process adds is answered by the worker at once
        new = _demo_lines(tmp_path / "new.jsonl", 1, skip=50)
        added = library.ingest_paths([new])
        library.build()
        [view] = [library.article(i) for i in added.added]
        assert view is not None
        title = view.citation.title
        [hits] = processes.search_many([Query(title, 1)])
        assert not isinstance(hits, RetrievalError) and hits[0].title == title

        # a worker that dies fails its batch, not the caller; new workers take over
        pool = processes._pool
        assert pool is not None
        [pid] = list(pool._processes)  # type: ignore[attr-defined]
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(RetrievalError):
            processes.search_many(queries)
        _until(lambda: processes.ready)
        again, local = processes.search_many(queries), library.search_many(queries)
        assert [_shown(r) for r in again] == [_shown(r) for r in local]
        pool = processes._pool
        assert pool is not None
        workers = list(pool._processes.values())  # type: ignore[attr-defined]
    finally:
        processes.close()
        library.close()
    assert workers and not any(w.is_alive() for w in workers)  # close waits for them to exit
    with pytest.raises(NotStarted):
        processes.search_many(queries)


def test_closing_while_the_workers_start_stops_them_quietly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot stopping while its search processes still load the model: no traceback from the
    starting thread, no error logged, the workers gone."""
    raised: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: raised.append(args.exc_value))
    settings = LibrarySettings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", index_dir=tmp_path / "index"
    )
    processes = SearchProcesses(settings, processes=2)
    starting = processes.start_in_background()
    _until(lambda: processes._pool is not None and bool(processes._pool._processes), 60)
    pool = processes._pool
    assert pool is not None
    workers = list(pool._processes.values())  # type: ignore[attr-defined]
    processes.close()
    starting.join(30)
    assert not starting.is_alive() and raised == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not any(w.is_alive() for w in workers) and not processes.ready


def test_a_broken_pool_closed_meanwhile_is_shut_down_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`close` takes the pool while the starting thread sees it break (a worker failed to
    open the library): only `close` shuts it down; a second shutdown from the starting thread
    would close the pool's wake-up pipe twice (OSError: Bad file descriptor)."""
    stopped: list[object] = []
    monkeypatch.setattr(workers, "_stop", lambda pool, timeout: stopped.append(pool))
    processes = SearchProcesses(
        LibrarySettings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}"), processes=1
    )
    pool = object()
    processes._pool = pool  # type: ignore[assignment]
    processes.close()
    processes._replace(pool)  # type: ignore[arg-type]
    assert stopped == [pool]
    replaced = object()
    processes._pool = replaced  # type: ignore[assignment]  # a pool broken while serving
    processes._replace(replaced)  # type: ignore[arg-type]
    processes._replace(replaced)  # type: ignore[arg-type]  # a second caller saw it break
    assert stopped == [pool, replaced] and processes._pool is None
