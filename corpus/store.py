"""Database engine and session factory, and the read/delete queries other layers use."""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Engine, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from corpus.models import Article, Passage
from corpus.schema import SQLITE_BUSY_TIMEOUT_MS, migrate
from corpus.types import ArticleView, Citation, CorpusStats, PassageView


def create_db_engine(url: str) -> Engine:
    """Create an engine; SQLite files get a parent directory, WAL, foreign keys and a timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or parsed.query.get("mode") == "memory"
    if not in_memory and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            # The timeout first: switching a new file to WAL takes its lock, and processes
            # opening it together would otherwise fail at once ("database is locked").
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            # WAL lets the bot read while the CLI ingests; ON DELETE CASCADE needs foreign_keys.
            if not in_memory:
                _wal(cursor)
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    return engine


def _wal(cursor: Any, attempts: int = 100) -> None:
    """Switch a SQLite file to WAL. Processes opening one new file at once can find it
    "locked" even within busy_timeout (SQLite skips the busy handler where waiting could
    deadlock): try again, every 50 ms, up to `attempts` times."""
    for attempt in range(attempts):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05)


@contextlib.contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the server of `url` (which must be PostgreSQL), for
    a throwaway corpus such as an evaluation's; its URL, dropped on exit."""
    parsed = make_url(url)
    name = f"sanad_scratch_{uuid.uuid4().hex[:12]}"
    admin = create_engine(parsed, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield parsed.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def init_db(engine: Engine) -> None:
    """Bring the database's schema to the newest revision (`corpus.schema.migrate`)."""
    migrate(engine)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@dataclass(frozen=True)
class PassageRow:
    """What the index builder needs per passage."""

    passage_id: int
    article_id: int
    text: str
    content_hash: str
    title: str


def all_passages(session: Session) -> list[PassageRow]:
    """Every passage with its article title, ordered by passage id."""
    return _passage_rows(session, None)


def passage_count(session: Session) -> int:
    """How many passages are stored (one COUNT, nothing loaded)."""
    return session.scalar(select(func.count(Passage.id))) or 0


def passage_ids(session: Session) -> set[int]:
    """The ids of every stored passage."""
    return set(session.scalars(select(Passage.id)))


def passage_rows(session: Session, ids: Sequence[int]) -> list[PassageRow]:
    """The passages with these ids (missing ids are absent), ordered by passage id."""
    rows: list[PassageRow] = []
    unique = sorted(set(ids))
    for start in range(0, len(unique), 500):  # bound the bind parameters of one statement
        rows.extend(_passage_rows(session, unique[start : start + 500]))
    return rows


def _passage_rows(session: Session, ids: Sequence[int] | None) -> list[PassageRow]:
    query = select(
        Passage.id, Passage.article_id, Passage.text, Passage.content_hash, Article.title
    ).join(Article, Passage.article_id == Article.id)
    if ids is not None:
        query = query.where(Passage.id.in_(ids))
    return [PassageRow(*row) for row in session.execute(query.order_by(Passage.id))]


def passage_views(session: Session, ids: Sequence[int]) -> dict[int, PassageView]:
    """Fetch the passages with these ids (missing ids are absent) in one query."""
    if not ids:
        return {}
    return {view.passage_id: view for view in _views(session, Passage.id.in_(set(ids)))}


def article_passages(session: Session, article_ids: Sequence[int]) -> list[PassageView]:
    """Every passage of these articles (missing ids are absent), by article then ordinal."""
    if not article_ids:
        return []
    return _views(session, Passage.article_id.in_(set(article_ids)))


def _views(session: Session, condition: ColumnElement[bool]) -> list[PassageView]:
    rows = session.execute(
        select(
            Passage.id,
            Passage.ordinal,
            Passage.text,
            Article.id,
            Article.title,
            Article.source,
            Article.url,
            Article.published_at,
        )
        .join(Article, Passage.article_id == Article.id)
        .where(condition)
        .order_by(Passage.article_id, Passage.ordinal)
    )
    return [PassageView(row[0], row[1], row[2], Citation(*row[3:])) for row in rows]


def article_bodies(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """The bodies of these articles (missing ids are absent) in one query."""
    if not ids:
        return {}
    rows = session.execute(select(Article.id, Article.body).where(Article.id.in_(set(ids))))
    return {row[0]: row[1] for row in rows}


def get_article(session: Session, article_id: int) -> Article | None:
    """The stored article with this id (a live ORM object), or None."""
    return session.get(Article, article_id)


def article_view(session: Session, article_id: int) -> ArticleView | None:
    """The article with this id, as shown in full, or None."""
    article = get_article(session, article_id)
    if article is None:
        return None
    return ArticleView(citation_of(article), article.body)


def citation_of(article: Article) -> Citation:
    """The citation of a stored article."""
    return Citation(article.id, article.title, article.source, article.url, article.published_at)


def delete_article(session: Session, article_id: int) -> bool:
    """Delete an article and its passages and commit; False if there was no such article."""
    article = session.get(Article, article_id)
    if article is None:
        return False
    session.delete(article)
    session.commit()
    return True


def corpus_stats(session: Session) -> CorpusStats:
    """Article and passage counts, distinct sources and the publication date range."""
    articles, first_date, last_date = session.execute(
        select(
            func.count(Article.id), func.min(Article.published_at), func.max(Article.published_at)
        )
    ).one()
    passages = passage_count(session)
    sources = session.scalars(
        select(Article.source)
        .where(Article.source.is_not(None))
        .distinct()
        .order_by(Article.source)
    )
    return CorpusStats(articles, passages, [s for s in sources if s], first_date, last_date)


def corpus_fingerprint(session: Session) -> str:
    """sha256 over (passage id, content hash) in id order: names the state an index was built on."""
    digest = hashlib.sha256()
    for passage_id, content_hash in session.execute(
        select(Passage.id, Passage.content_hash).order_by(Passage.id)
    ):
        digest.update(f"{passage_id}:{content_hash}\n".encode())
    return digest.hexdigest()


def newest_published(session: Session) -> datetime | None:
    """When the newest dated article was published (None: no article has a date)."""
    return session.scalar(select(func.max(Article.published_at)))


def newest_passages(
    session: Session,
    limit: int,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    first_only: bool = False,
) -> list[PassageView]:
    """The passages of the `limit` newest dated articles published in [since, until), newest
    article first, each article's passages in order (only its first with `first_only`)."""
    newest = select(Article.id).where(Article.published_at.is_not(None))
    if since is not None:
        newest = newest.where(Article.published_at >= since)
    if until is not None:
        newest = newest.where(Article.published_at < until)
    newest = newest.order_by(Article.published_at.desc(), Article.id.desc()).limit(limit)
    condition: ColumnElement[bool] = Passage.article_id.in_(newest.scalar_subquery())
    if first_only:
        condition = condition & (Passage.ordinal == 0)
    views = _views(session, condition)
    # newest article first; `reverse` keeps the sort stable, so passages stay in order
    return sorted(views, key=lambda v: (v.citation.published_at, v.article_id), reverse=True)
