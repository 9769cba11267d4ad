"""Engine setup, read queries, delete cascade and corpus stats on a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from corpus.ingest import ArticleRecord, ingest_records
from corpus.models import Article, Passage
from corpus.store import (
    all_passages,
    corpus_fingerprint,
    corpus_stats,
    create_db_engine,
    delete_article,
    get_article,
    init_db,
    make_session_factory,
    passage_views,
)

SEED = Path(__file__).resolve().parents[1] / "corpus" / "data" / "libya-malta-security.txt"
SENTENCE = "أعلنت الهيئة العامة للإحصاء اليوم نتائج المسح السنوي للقوى العاملة في المملكة."
RECORDS = [
    ArticleRecord(
        title="خبر من سبق",
        body=" ".join([SENTENCE] * 30),  # 330 words: more than one passage
        source="سبق",
        url="http://sabq.org/1",
        published_at=datetime(2015, 8, 3, 9, 30, tzinfo=UTC),
        external_id="s1",
    ),
    ArticleRecord(
        title="خبر من عكاظ",
        body=SENTENCE,
        source="عكاظ",
        published_at=datetime(2015, 8, 1, tzinfo=UTC),
        external_id="o1",
    ),
    ArticleRecord(title="بلا مصدر", body=SENTENCE + " وأضافت.", external_id="n1"),
]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'corpus.sqlite3'}")
    init_db(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def ids(factory: sessionmaker[Session]) -> list[int]:
    with factory() as session:
        return ingest_records(session, RECORDS).added


def test_sqlite_engine_creates_folder_and_sets_pragmas(tmp_path: Path, engine: Engine) -> None:
    assert (tmp_path / "nested" / "dir").is_dir()
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000


def test_in_memory_sqlite_works() -> None:
    engine = create_db_engine("sqlite://")
    init_db(engine)
    with make_session_factory(engine)() as session:
        assert ingest_records(session, RECORDS[1:2]).added == [1]
        assert corpus_stats(session).passages == 1


def test_all_passages_and_views(factory: sessionmaker[Session], ids: list[int]) -> None:
    with factory() as session:
        rows = all_passages(session)
        assert [r.passage_id for r in rows] == sorted(r.passage_id for r in rows)
        assert [r.article_id for r in rows].count(ids[0]) >= 2
        assert {r.title for r in rows} == {"خبر من سبق", "خبر من عكاظ", "بلا مصدر"}
        article = get_article(session, ids[0])
        assert article is not None and get_article(session, 10_000) is None
        for passage in article.passages:
            assert article.body[passage.char_start : passage.char_end] == passage.text

        wanted = [rows[-1].passage_id, rows[0].passage_id, 10_000]
        statements: list[str] = []

        def record(*args: Any) -> None:
            statements.append(args[2])

        event.listen(session.get_bind(), "before_cursor_execute", record)
        views = passage_views(session, wanted)
        event.remove(session.get_bind(), "before_cursor_execute", record)
    assert len(statements) == 1
    assert set(views) == {rows[-1].passage_id, rows[0].passage_id}
    first = views[rows[0].passage_id]
    assert (first.article_id, first.ordinal, first.citation.title) == (ids[0], 0, "خبر من سبق")
    assert (first.citation.source, first.citation.url) == ("سبق", "http://sabq.org/1")
    assert first.citation.published_at == datetime(2015, 8, 3, 9, 30, tzinfo=UTC)
    assert first.text.startswith(SENTENCE)
    assert views[rows[-1].passage_id].citation.source is None


def test_delete_article_cascades(factory: sessionmaker[Session], ids: list[int]) -> None:
    with factory() as session:
        before = session.scalar(select(func.count(Passage.id)))
        own = session.scalar(select(func.count(Passage.id)).where(Passage.article_id == ids[0]))
        assert delete_article(session, ids[0]) is True
        assert delete_article(session, ids[0]) is False
    with factory() as session:
        assert session.get(Article, ids[0]) is None
        assert session.scalar(select(func.count(Passage.id))) == (before or 0) - (own or 0)
        # The database itself cascades too (foreign_keys=ON), not only the ORM.
        session.execute(text("DELETE FROM articles WHERE id = :id"), {"id": ids[1]})
        session.commit()
        left = session.scalars(select(Passage.article_id).distinct()).all()
        assert left == [ids[2]]


def test_corpus_stats(factory: sessionmaker[Session], ids: list[int]) -> None:
    with factory() as session:
        stats = corpus_stats(session)
        passages = session.scalar(select(func.count(Passage.id)))
    assert (stats.articles, stats.passages) == (3, passages)
    assert stats.passages >= 4
    assert stats.sources == ["سبق", "عكاظ"]
    assert stats.first_date == datetime(2015, 8, 1, tzinfo=UTC)
    assert stats.last_date == datetime(2015, 8, 3, 9, 30, tzinfo=UTC)


def test_empty_corpus_stats(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        stats = corpus_stats(session)
    assert (stats.articles, stats.passages, stats.sources) == (0, 0, [])
    assert stats.first_date is None and stats.last_date is None


def test_fingerprint_tracks_passage_changes(factory: sessionmaker[Session], ids: list[int]) -> None:
    with factory() as session:
        start = corpus_fingerprint(session)
        assert corpus_fingerprint(session) == start
        ingest_records(session, RECORDS)  # unchanged: same fingerprint
        assert corpus_fingerprint(session) == start
        edited = ArticleRecord(title="بلا مصدر", body=SENTENCE + " وعدلت.", external_id="n1")
        ingest_records(session, [edited])
        after_edit = corpus_fingerprint(session)
        assert after_edit != start
        delete_article(session, ids[1])
        assert corpus_fingerprint(session) not in (start, after_edit)


def test_timestamps_are_aware_utc(factory: sessionmaker[Session], ids: list[int]) -> None:
    with factory() as session:
        article = session.get(Article, ids[0])
        assert article is not None
        assert article.created_at.tzinfo is not None
        assert article.created_at.utcoffset() is not None
        assert article.updated_at >= article.created_at
        assert article.published_at == datetime(2015, 8, 3, 9, 30, tzinfo=UTC)


def test_passage_ids_are_not_reused_after_update(
    factory: sessionmaker[Session], ids: list[int]
) -> None:
    with factory() as session:
        old = max(session.scalars(select(Passage.id)))
        edited = ArticleRecord(title="بلا مصدر", body=SENTENCE + " مرة أخرى.", external_id="n1")
        ingest_records(session, [edited])
        article = session.get(Article, ids[2])
        assert article is not None
        assert all(p.id > old for p in article.passages)


def test_seed_article_round_trip(factory: sessionmaker[Session]) -> None:
    title, _, body = SEED.read_text(encoding="utf-8").partition("\n")
    with factory() as session:
        (article_id,) = ingest_records(session, [ArticleRecord(title=title, body=body)]).added
    with factory() as session:
        article = get_article(session, article_id)
        assert article is not None
        assert article.title == title and article.language == "ar"
        assert [p.ordinal for p in article.passages] == [0, 1, 2, 3]
        assert article.passages[1].text.startswith("جهود مكافحة الهجرة غير الشرعية")
        assert len(article.content_hash) == 64
