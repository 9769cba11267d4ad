"""INDEX_BACKEND=pgvector on a real PostgreSQL 16 + pgvector: what one database shared by
several processes promises (tests/test_library.py and tests/test_search.py run the common
behaviour on it too)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from corpus.ingest import ArticleRecord
from retrieval.errors import BuildInProgress, IndexMismatch
from retrieval.library import Library
from retrieval.settings import LibrarySettings, SettingsError
from tests.conftest import DEMO
from tests.fakes import FakeEncoder

pytestmark = pytest.mark.postgres


class Encoder384(FakeEncoder):
    dim = 384


def _records(n: int) -> list[ArticleRecord]:
    from corpus.ingest import parse_document

    lines = DEMO.read_bytes().splitlines()[:n]
    records, problems = parse_document("demo.jsonl", b"\n".join(lines))
    assert not problems
    return records


def _open(url: str, tmp_path, encoder=None) -> Library:
    settings = LibrarySettings(
        database_url=url, index_dir=tmp_path / "unused", index_backend="pgvector"
    )
    return Library.open(settings, encoder=encoder or Encoder384())


@pytest.fixture()
def pair(postgres_url, tmp_path):
    """Two libraries on one database, as two replicas have (separate connection pools)."""
    first = _open(postgres_url, tmp_path)
    first.add_articles(_records(30))
    first.build()
    second = _open(postgres_url, tmp_path)
    yield first, second
    first.close()
    second.close()


QUESTION = "البحرين تدين العمل الإجرامي الذي أدى لاستشهاد الرضيع الفلسطيني"


def test_bm25_scores_equal_the_embedded_backend(postgres_url, tmp_path):
    pg = _open(postgres_url, tmp_path)
    files = Library.open(
        LibrarySettings(
            database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
            index_dir=tmp_path / "index",
            index_backend="faiss-tantivy",
        ),
        encoder=Encoder384(),
    )
    for library in (pg, files):
        library.add_articles(_records(60))
        library.build()
    for question in (QUESTION, "أسعار النفط اليوم", "الهلال والنصر في الدوري"):
        a = pg.retriever.version.lexical.search(question, 20)
        b = files.retriever.version.lexical.search(question, 20)
        assert a, question
        assert [pid for pid, _ in a] == [pid for pid, _ in b]
        assert [round(s, 6) for _, s in a] == [round(s, 6) for _, s in b]
        dense_pg = pg.search(question, 5, mode="dense")
        dense_files = files.search(question, 5, mode="dense")
        assert [h.passage_id for h in dense_pg] == [h.passage_id for h in dense_files]
    pg.close()


def test_an_article_added_by_one_process_is_answered_by_the_other_at_once(pair):
    first, second = pair
    before = second.search("مهرجان الزيتون في الجوف", 3, mode="lexical")
    assert all(h.title != "مهرجان الزيتون" for h in before)
    first.add_articles(
        [ArticleRecord("مهرجان الزيتون", "افتتح أمير الجوف مهرجان الزيتون في دورته العاشرة.")]
    )
    report = first.build()
    assert report.added == 1 and report.embedded == 1
    for mode in ("lexical", "dense", "hybrid"):
        hits = second.search("مهرجان الزيتون في الجوف", 3, mode=mode)
        assert hits and hits[0].title == "مهرجان الزيتون", mode
    assert not second.is_stale()


def test_a_deleted_article_leaves_every_process_at_once(pair):
    first, second = pair
    hit = second.search(QUESTION, 1)[0]
    assert first.delete_article(hit.article_id)
    for mode in ("lexical", "dense", "hybrid"):  # before any build
        assert all(h.article_id != hit.article_id for h in second.search(QUESTION, 5, mode=mode))
    assert second.is_stale()
    report = first.build()
    assert report.removed >= 1 and not second.is_stale()


def test_statistics_after_deletes_equal_a_fresh_build(pair, postgres_server, tmp_path):
    from tests.conftest import new_postgres_database

    first, _ = pair
    for article_id in (3, 7, 11):
        assert first.delete_article(article_id)
    first.build()
    fresh = _open(new_postgres_database(postgres_server, "fresh"), tmp_path)
    kept = [r for i, r in enumerate(_records(30), start=1) if i not in (3, 7, 11)]
    fresh.add_articles(kept)
    fresh.build()
    for question in (QUESTION, "أسعار النفط", "وزارة الصحة"):
        a = [round(s, 6) for _, s in first.retriever.version.lexical.search(question, 10)]
        b = [round(s, 6) for _, s in fresh.retriever.version.lexical.search(question, 10)]
        assert a == b, question
    with first.index.engine.connect() as connection:  # type: ignore[attr-defined]
        orphans = connection.execute(
            text(
                "SELECT count(*) FROM index_members m WHERE NOT EXISTS "
                "(SELECT 1 FROM passages p WHERE p.id = m.passage_id)"
            )
        ).scalar()
    assert orphans == 0
    fresh.close()


def test_one_build_at_a_time_across_processes(pair):
    first, second = pair
    with first.index.build_lock(), pytest.raises(BuildInProgress):
        second.build()
    second.build()  # released: the other may build now


def test_a_new_model_replaces_every_vector(pair, tmp_path, postgres_url):
    first, _ = pair
    passages = first.stats().index_passages

    class Other(Encoder384):
        fingerprint = "fake-2"

    other = _open(postgres_url, tmp_path, Other())
    assert isinstance(other.load_error, IndexMismatch)
    report = other.build()
    assert report.embedded == passages and report.version != first.served_generation
    assert other.search(QUESTION, 1)[0].title.startswith("البحرين")
    other.close()


def test_a_model_of_another_dimension_is_refused_clearly(postgres_url, tmp_path):
    library = _open(postgres_url, tmp_path, FakeEncoder())  # 64 dimensions
    library.add_articles(_records(2))
    with pytest.raises(IndexMismatch, match="384"):
        library.build()
    library.close()


def test_pgvector_needs_a_postgresql_database(tmp_path):
    with pytest.raises(SettingsError, match="PostgreSQL"):
        LibrarySettings.load(index_backend="pgvector", database_url="sqlite:///x.db")


def test_an_outage_is_told_apart_and_the_library_recovers_by_itself(own_postgres, tmp_path):
    from retrieval.errors import StoreUnavailable
    from tests.conftest import new_postgres_database, outage

    library = _open(new_postgres_database(own_postgres, "outage"), tmp_path)
    library.add_articles(_records(5))
    library.build()
    assert library.search(QUESTION, 1)
    with outage(own_postgres):
        with pytest.raises(StoreUnavailable):
            library.search(QUESTION, 1)
        with pytest.raises(StoreUnavailable):
            library.add_articles([ArticleRecord("خبر", "نص خبر لم يُحفظ أثناء الانقطاع.")])
    assert library.search(QUESTION, 1)  # the pools reconnect by themselves
    assert library.corpus_stats().articles == 5  # nothing half-written
    library.close()


def test_searches_read_the_read_replica(pair, postgres_server, tmp_path):
    """DATABASE_READ_URL: the index is searched there; writes go to DATABASE_URL. A copy of
    the database stands for a replica that has not replayed the newest commit yet."""
    from sqlalchemy.engine import make_url

    first, second = pair
    primary = make_url(first.index.url)  # type: ignore[attr-defined]
    first.close()
    second.close()  # a template database must have no other sessions
    copy = f"{primary.database}_replica"
    postgres_server.psql(f"CREATE DATABASE {copy} TEMPLATE {primary.database};")
    read_url = primary.set(database=copy).render_as_string(hide_password=False)
    settings = LibrarySettings(
        database_url=primary.render_as_string(hide_password=False),
        database_read_url=read_url,
        index_dir=tmp_path / "unused",
        index_backend="pgvector",
    )
    library = Library.open(settings, encoder=Encoder384())
    assert library.search(QUESTION, 1)[0].title.startswith("البحرين")
    library.add_articles([ArticleRecord("مهرجان التمور", "افتتح مهرجان التمور في بريدة اليوم.")])
    library.build()  # written to the primary ...
    hits = library.search("مهرجان التمور في بريدة", 3, mode="lexical")
    assert all(h.title != "مهرجان التمور" for h in hits)  # ... not replayed on the "replica"
    library.close()


def test_a_read_url_needs_pgvector():
    with pytest.raises(SettingsError, match="DATABASE_READ_URL"):
        LibrarySettings.load(database_read_url="postgresql+psycopg://x@h/db")


def test_a_fresh_build_reanalyzes_in_place_and_keeps_every_vector(pair):
    first, second = pair
    before = first.search(QUESTION, 3)
    report = first.build(fresh=True)
    assert (report.added, report.removed, report.embedded) == (0, 0, 0)
    assert report.version == first.served_generation
    after = second.search(QUESTION, 3)
    assert [h.passage_id for h in after] == [h.passage_id for h in before]
    assert [round(h.score, 6) for h in after] == [round(h.score, 6) for h in before]


def test_a_bulk_build_vacuums_the_index_tables_and_a_small_one_does_not(
    postgres_url, tmp_path, monkeypatch
):
    """After a bulk change BM25 must read postings from the index alone (visibility map and
    statistics up to date); a build of a few passages leaves that to autovacuum."""
    from retrieval.backends import postgres

    library = _open(postgres_url, tmp_path)
    engine = library.index.engine

    def vacuumed() -> dict[str, bool]:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_stat_clear_snapshot()"))
            rows = connection.execute(
                text(
                    "SELECT relname, last_vacuum IS NOT NULL FROM pg_stat_user_tables "
                    "WHERE relname = ANY(:tables)"
                ),
                {"tables": list(postgres.INDEX_TABLES)},
            )
            return dict(rows.all())

    records = _records(12)
    library.add_articles(records[:10])
    passages = library.corpus_stats().passages
    monkeypatch.setattr(postgres, "VACUUM_AFTER", passages + 1)
    library.build()
    assert not any(vacuumed().values())
    library.add_articles(records[10:])
    monkeypatch.setattr(postgres, "VACUUM_AFTER", 1)
    library.build()
    assert vacuumed() == dict.fromkeys(postgres.INDEX_TABLES, True)
    library.close()
