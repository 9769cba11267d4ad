"""Migrations: a new database, a database of the release before migrations, and the models
agree with what the migrations create."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, func, inspect, select

from bot.records import BotBase, QuestionStore, create_tables
from corpus import schema
from corpus.models import Article, Base, Passage
from corpus.schema import current_revision, head_revision, migrate
from corpus.store import create_db_engine, init_db, make_session_factory

RELEASE_DUMP = Path(__file__).parent / "data" / "release-37fa150.sql"


def _models() -> MetaData:
    merged = MetaData()
    for metadata in (Base.metadata, BotBase.metadata):
        for table in metadata.tables.values():
            table.to_metadata(merged)
    return merged


def test_new_database_gets_every_table_at_head(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'new.db'}")
    assert current_revision(engine) is None
    init_db(engine)
    assert current_revision(engine) == head_revision()
    assert set(_models().tables) <= set(inspect(engine).get_table_names())
    init_db(engine)  # again: nothing to do, nothing fails
    assert current_revision(engine) == head_revision()


def test_migrated_schema_matches_the_models(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'new.db'}")
    migrate(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), _models())
    assert diff == []


def test_release_database_upgrades_without_losing_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(RELEASE_DUMP.read_text(encoding="utf-8"))
    before = _counts(path)
    assert before["articles"] == 3 and before["passages"] > 3 and before["bot_feedback"] == 1
    engine = create_db_engine(f"sqlite:///{path}")
    assert current_revision(engine) is None
    init_db(engine)
    assert current_revision(engine) == head_revision()
    assert _counts(path) == before
    with make_session_factory(engine)() as session:  # the ORM reads the old rows
        article = session.scalars(select(Article).order_by(Article.id)).first()
        assert article is not None and article.passages
        assert article.published_at is not None and article.published_at.tzinfo is not None
        assert session.scalar(select(func.count(Passage.id))) == before["passages"]
    store = QuestionStore(create_tables(engine))
    assert store.get("q1") == "سؤال؟"


def test_corpus_only_database_gets_the_bot_tables(tmp_path: Path) -> None:
    """The release's CLI created the corpus's tables only; the bot added its own later."""
    path = tmp_path / "cli.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(RELEASE_DUMP.read_text(encoding="utf-8"))
        for table in ("bot_queries", "bot_feedback", "bot_admin_actions"):
            conn.execute(f"DROP TABLE {table}")
    engine = create_db_engine(f"sqlite:///{path}")
    init_db(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"bot_queries", "bot_feedback", "bot_admin_actions"} <= tables
    assert _counts(path)["articles"] == 3


def _counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in RELEASE}


@pytest.mark.parametrize("revision", ["0001", "0002", "0005"])
def test_every_revision_downgrades_and_upgrades_again(tmp_path: Path, revision: str) -> None:
    from alembic import command

    from corpus.schema import _config

    engine = create_db_engine(f"sqlite:///{tmp_path / 'x.db'}")
    migrate(engine)
    with engine.begin() as connection:
        command.downgrade(_config(connection), revision)
    assert current_revision(engine) == revision
    migrate(engine)
    assert current_revision(engine) == head_revision()


# The tables release 37fa150 had (tests/data/release-37fa150.sql)
RELEASE = {
    "articles",
    "passages",
    "line_shapes",
    "bot_queries",
    "bot_feedback",
    "bot_admin_actions",
}
INDEX_TABLES = {
    "index_meta",
    "index_members",
    "index_words",
    "index_embeddings",
    "passage_vectors",
    "lexical_postings",
    "lexical_terms",
}


def _migrate_when_released(url: str, together: Any) -> None:
    engine = create_db_engine(url)
    try:
        together.wait(60)  # every process has its engine: all migrate at the same moment
        migrate(engine)
    finally:
        engine.dispose()


def test_processes_migrating_a_new_sqlite_file_at_once_take_turns(tmp_path: Path) -> None:
    """A bot's search workers open a new database together: each migrates it, none fails with
    "table already exists" or "database is locked", and the tables are made once."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    context = multiprocessing.get_context("spawn")
    together = context.Barrier(4)
    processes = [
        context.Process(target=_migrate_when_released, args=(url, together)) for _ in range(4)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    assert [p.exitcode for p in processes] == [0, 0, 0, 0]
    engine = create_db_engine(url)
    try:
        assert current_revision(engine) == head_revision()
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), _models()) == []
    finally:
        engine.dispose()


def test_a_current_database_opens_while_another_process_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Starting against a database at the newest revision takes no write lock: a bot starts
    while the CLI's ingest holds one (a migration would wait for it, here not at all)."""
    path = tmp_path / "db.sqlite"
    engine = create_db_engine(f"sqlite:///{path}")
    migrate(engine)
    monkeypatch.setattr(schema, "_SQLITE_MIGRATION_WAIT_MS", 0)
    writer = sqlite3.connect(path, timeout=0)
    try:
        writer.execute("BEGIN IMMEDIATE")
        migrate(engine)  # would raise "database is locked" had it asked for the write lock
        assert current_revision(engine) == head_revision()
    finally:
        writer.rollback()
        writer.close()
        engine.dispose()


@pytest.mark.postgres
def test_postgres_migrates_models_and_the_pgvector_index(postgres_url: str) -> None:
    engine = create_db_engine(postgres_url)
    migrate(engine)
    migrate(engine)  # a second replica starting: nothing to do
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert tables >= INDEX_TABLES
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), _models())
    # the index's tables are the pgvector backend's, not ORM models
    assert [d for d in diff if _table_of(d) not in INDEX_TABLES] == []
    with engine.connect() as connection:
        hnsw = connection.exec_driver_sql(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'passage_vectors_hnsw'"
        ).scalar_one()
    assert "hnsw" in hnsw and "vector_cosine_ops" in hnsw


def _table_of(difference: tuple) -> str:
    item = difference[1]
    return str(item.table.name if hasattr(item, "table") else item.name)


@pytest.mark.postgres
def test_postgres_release_database_upgrades_without_losing_rows(postgres_url: str) -> None:
    """The release before migrations ran `create_all` for the corpus's and bot's models."""
    from corpus.ingest import ingest_records, parse_document
    from tests.conftest import DEMO

    engine = create_db_engine(postgres_url)
    for metadata in (Base.metadata, BotBase.metadata):
        metadata.create_all(engine, tables=[t for t in metadata.sorted_tables if t.name in RELEASE])
    lines = DEMO.read_bytes().splitlines()[:3]
    records, problems = parse_document("three.jsonl", b"\n".join(lines))
    assert not problems
    with make_session_factory(engine)() as session:
        ingest_records(session, records, lambda title, text: False)
        before = (
            session.scalar(select(func.count(Article.id))),
            session.scalar(select(func.count(Passage.id))),
        )
    assert before[0] == 3
    migrate(engine)
    assert current_revision(engine) == head_revision()
    with make_session_factory(engine)() as session:
        after = (
            session.scalar(select(func.count(Article.id))),
            session.scalar(select(func.count(Passage.id))),
        )
    assert after == before


def _at_0005_with_vectors(url: str) -> tuple[Any, list[int], Any]:
    """A PostgreSQL database at revision 0005 (the m 16 graph) holding the demo corpus's
    passages and a random vector for each: (engine, passage ids, vectors)."""
    import numpy as np
    from alembic import command
    from pgvector.psycopg import register_vector

    from corpus.ingest import ingest_records, parse_document
    from corpus.schema import _config
    from tests.conftest import DEMO

    engine = create_db_engine(url)
    with engine.begin() as connection:
        command.upgrade(_config(connection), "0005")
    records, problems = parse_document("demo.jsonl", DEMO.read_bytes())
    assert not problems
    with make_session_factory(engine)() as session:
        ingest_records(session, records, lambda title, text: False)
        ids = list(session.scalars(select(Passage.id).order_by(Passage.id)))
    vectors = np.random.default_rng(0).standard_normal((len(ids), 384)).astype(np.float32)
    with engine.begin() as connection:
        register_vector(connection.connection.dbapi_connection)
        with connection.connection.dbapi_connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO passage_vectors (passage_id, embedding) VALUES (%s, %s)",
                list(zip(ids, vectors, strict=True)),
            )
    return engine, ids, vectors


def _graph(engine: Any) -> str:
    with engine.connect() as connection:
        return str(
            connection.exec_driver_sql(
                "SELECT pg_get_indexdef('passage_vectors_hnsw'::regclass)"
            ).scalar_one()
        )


def _nearest(engine: Any, vector: Any, lock_timeout: str = "0") -> int:
    """The passage nearest `vector` by the HNSW graph (the plan is checked to use it)."""
    from pgvector.psycopg import register_vector

    with engine.begin() as connection:
        register_vector(connection.connection.dbapi_connection)
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{lock_timeout}'")
        plan = connection.exec_driver_sql(
            "EXPLAIN SELECT passage_id FROM passage_vectors ORDER BY embedding <=> %(q)s LIMIT 1",
            {"q": vector},
        ).all()
        assert "passage_vectors_hnsw" in " ".join(row[0] for row in plan)
        return int(
            connection.exec_driver_sql(
                "SELECT passage_id FROM passage_vectors ORDER BY embedding <=> %(q)s LIMIT 1",
                {"q": vector},
            ).scalar_one()
        )


@pytest.mark.postgres
def test_postgres_hnsw_graph_is_rebuilt_denser_keeping_every_vector(postgres_url: str) -> None:
    """0006 rebuilds passage_vectors_hnsw with m 24 over the rows already there (and 16 again
    on the way down); searches keep using the graph."""
    from alembic import command

    from corpus.schema import _config

    engine, ids, vectors = _at_0005_with_vectors(postgres_url)
    try:
        assert "m='16'" in _graph(engine)
        migrate(engine)
        assert current_revision(engine) == head_revision()
        assert "m='24'" in _graph(engine) and "ef_construction='200'" in _graph(engine)
        with engine.connect() as connection:
            count = connection.exec_driver_sql("SELECT count(*) FROM passage_vectors").scalar()
        assert count == len(ids)
        picks = (0, len(ids) // 2, len(ids) - 1)
        assert [_nearest(engine, vectors[i]) for i in picks] == [ids[i] for i in picks]
        with engine.begin() as connection:
            command.downgrade(_config(connection), "0005")
        assert "m='16'" in _graph(engine)
        assert _nearest(engine, vectors[1]) == ids[1]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_searches_go_on_while_the_graph_is_rebuilt(postgres_url: str) -> None:
    """A transaction that has read passage_vectors (a long report, a pg_dump) keeps the
    rebuild from swapping graphs; searches meanwhile are answered at once, never queued behind
    the swap's lock, and the upgrade completes when that transaction ends."""
    engine, ids, vectors = _at_0005_with_vectors(postgres_url)
    migrating = threading.Thread(target=migrate, args=(engine,), daemon=True)
    try:
        with engine.connect() as long_reader:
            long_reader.exec_driver_sql("SELECT count(*) FROM passage_vectors").scalar()
            migrating.start()
            deadline = time.monotonic() + 60
            with engine.connect() as watch:  # the build is done: the swap is being tried
                while not watch.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LOCK TABLE "
                    "passage_vectors%%' OR query LIKE 'ROLLBACK TO SAVEPOINT%%'"
                ).scalar():
                    assert time.monotonic() < deadline, "the rebuild never reached the swap"
                    watch.rollback()
                    time.sleep(0.05)
            for i in range(0, len(ids), max(1, len(ids) // 10)):
                assert _nearest(engine, vectors[i], lock_timeout="2s") == ids[i]
            assert migrating.is_alive()  # the swap waits for the long reader
            long_reader.rollback()
        migrating.join(60)
        assert not migrating.is_alive()
        assert current_revision(engine) == head_revision()
        assert "m='24'" in _graph(engine)
    finally:
        migrating.join(60)
        engine.dispose()
