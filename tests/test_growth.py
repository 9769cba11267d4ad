"""An index that grows by adds and deletes, with the real model: it answers like one built from
scratch, and a build killed with SIGKILL mid-embedding loses at most the batch in flight."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from itertools import islice
from pathlib import Path

import pytest
from sqlalchemy import select

from corpus.ingest import stream_paths
from corpus.models import Article
from retrieval.index import EMBED_BATCH
from retrieval.library import Library
from retrieval.settings import LibrarySettings
from tests.conftest import DEMO, ROOT, SEED, model_cache_dir

QUESTIONS = [
    "ما الذي اتفق عليه الجانبان بشأن الهجرة غير الشرعية؟",
    "من أدان حرق الرضيع الفلسطيني؟",
    "كم بلغ سعر برميل النفط؟",
    "ما نتيجة مباراة الهلال؟",
    "ماذا قال وزير الخارجية عن اليمن؟",
    "أين وقع الانفجار؟",
    "متى يبدأ العام الدراسي الجديد؟",
    "ما أسباب ارتفاع الأسعار في السوق السعودي؟",
]


def _settings(folder: Path) -> LibrarySettings:
    return LibrarySettings(
        database_url=f"sqlite:///{folder / 'db.sqlite'}", index_dir=folder / "index"
    )


def _records(start: int, stop: int):
    return list(islice(stream_paths([DEMO], []), start, stop))


def _top10(library: Library, mode: str) -> list[list[str | None]]:
    """Top-10 articles per question, named by external id (row ids differ between stores)."""
    with library.session_factory() as session:
        names = dict(session.execute(select(Article.id, Article.external_id)).all())
    answers = []
    for question in [*QUESTIONS, *(r.title for r in _records(0, 60)[::6])]:
        hits = library.search(question, 10, mode=mode)  # type: ignore[arg-type]
        answers.append([names.get(hit.article_id) for hit in hits])
    return answers


@pytest.mark.slow
def test_an_index_grown_by_adds_and_deletes_answers_like_one_built_from_scratch(
    tmp_path, real_encoder
):
    grown = Library.open(_settings(tmp_path / "grown"), encoder=real_encoder)
    grown.add_articles(_records(0, 30))
    grown.build()
    added = grown.add_articles(_records(30, 50))
    grown.build()
    for article_id in added.added[::3]:  # delete every third of the second batch
        grown.delete_article(article_id)
    grown.build()
    grown.add_articles(_records(50, 60))
    report = grown.build()
    assert (report.added, report.removed) == (report.embedded + report.reused, 0)

    scratch_dir = tmp_path / "scratch"
    scratch = Library.open(_settings(scratch_dir), encoder=real_encoder)
    kept = set(added.added[::3])
    with grown.session_factory() as session:
        survivors = set(session.scalars(select(Article.external_id)))
    scratch.add_articles(r for r in _records(0, 60) if r.external_id in survivors)
    assert scratch.corpus_stats().articles == grown.corpus_stats().articles == 60 - len(kept)
    # the same vectors for the same texts (no need to encode them again), a fresh generation
    (scratch_dir / "index").mkdir()
    with (
        sqlite3.connect(tmp_path / "grown" / "index" / "embeddings.sqlite") as source,
        sqlite3.connect(scratch_dir / "index" / "embeddings.sqlite") as copy,
    ):
        source.backup(copy)
    assert scratch.build().embedded == 0
    for mode in ("hybrid", "lexical", "dense"):
        assert _top10(grown, mode) == _top10(scratch, mode), mode


def _stored_vectors(index_dir: Path) -> int:
    path = index_dir / "embeddings.sqlite"
    if not path.exists():
        return 0
    with sqlite3.connect(path, timeout=30) as conn:
        return int(conn.execute("SELECT count(*) FROM vectors").fetchone()[0])


@pytest.mark.slow
def test_a_build_killed_mid_embedding_resumes_and_loses_at_most_one_batch(tmp_path, real_encoder):
    settings = _settings(tmp_path)
    library = Library.open(settings, encoder=real_encoder)
    library.ingest_paths([SEED])
    library.build()  # the generation being served
    before = _stored_vectors(settings.index_dir)
    library.add_articles(_records(0, 50))
    total = library.corpus_stats().passages
    pending = total - before
    assert pending > 3 * EMBED_BATCH

    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "INDEX_DIR": str(settings.index_dir),
        "MODEL_CACHE_DIR": str(model_cache_dir()),
        "HF_HUB_OFFLINE": "1",
    }
    build = subprocess.Popen(
        [sys.executable, "-m", "retrieval", "build"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while _stored_vectors(settings.index_dir) < before + 2 * EMBED_BATCH:
        assert build.poll() is None, "the build ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    build.send_signal(signal.SIGKILL)
    build.wait()
    committed = _stored_vectors(settings.index_dir) - before
    assert 2 * EMBED_BATCH <= committed < pending

    # The served generation is intact and answers; the new passages answer by keywords.
    served = Library.open(settings, encoder=real_encoder)
    assert served.load_error is None
    seed_hit = served.search("ما الذي اتفق عليه الجانبان بشأن الهجرة غير الشرعية؟", 1)[0]
    assert "الهجرة" in seed_hit.text
    # (a batch stored but not yet marked served at the kill is reused, not encoded again)
    assert (
        pending - committed
        <= served.retriever.version.pending()
        <= pending - committed + EMBED_BATCH
    )
    assert served.is_stale()

    # Restarted, the build encodes only what no batch committed: the batch in flight at the
    # kill (at most EMBED_BATCH passages) is the only work done twice.
    report = served.build()
    assert report.embedded == pending - committed and report.reused <= EMBED_BATCH
    assert report.embedded <= pending - 2 * EMBED_BATCH
    assert served.retriever.version.pending() == 0 and not served.is_stale()
    assert served.retriever.version.size == total
    print(
        f"\nkill test: {pending} passages to embed, {committed} stored when killed, "
        f"{report.embedded} encoded after the restart, {report.reused} reused"
    )
