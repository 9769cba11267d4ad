"""The one object the CLI and the bot use: corpus store + embedding model + index + retriever."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import ParamSpec, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from corpus import BUNDLED_CORPUS
from corpus.ingest import ingest_records, parse_document, stream_paths
from corpus.store import (
    article_passages,
    article_view,
    corpus_fingerprint,
    corpus_stats,
    create_db_engine,
    delete_article,
    init_db,
    make_session_factory,
    passage_ids,
    passage_rows,
)
from retrieval.backends import PGVECTOR, get_backend
from retrieval.encoder import Encoder, load_encoder
from retrieval.errors import (
    IndexCorrupt,
    IndexMismatch,
    IndexNotReady,
    RetrievalError,
    StoreUnavailable,
)
from retrieval.gate import MIN_RELEVANCE
from retrieval.index import IndexInput, IndexStorage, IndexStore, Progress, embedding_text
from retrieval.memory import release_free_memory
from retrieval.query import Mode, Query
from retrieval.readers import Readers
from retrieval.recency import about
from retrieval.search import Retriever
from retrieval.settings import LibrarySettings
from retrieval.types import (
    ArticleRecord,
    ArticleView,
    BuildReport,
    CorpusStats,
    Hit,
    IngestProblem,
    IngestReport,
    LibraryStats,
    PrepareReport,
    TopicMatch,
)

P = ParamSpec("P")
R = TypeVar("R")


class StoredCorpus:
    """The corpus store as an index sync reads it (`retrieval.index.CorpusSource`)."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def passage_ids(self) -> set[int]:
        with self.session_factory() as session:
            return passage_ids(session)

    def passages(self, ids: Sequence[int]) -> list[IndexInput]:
        with self.session_factory() as session:
            return [IndexInput(r.passage_id, r.title, r.text) for r in passage_rows(session, ids)]

    def fingerprint(self) -> str:
        with self.session_factory() as session:
            return corpus_fingerprint(session)


def _store_errors(method: Callable[P, R]) -> Callable[P, R]:
    """Database connection failures leave the library as StoreUnavailable, so callers tell
    "try again in a moment" from a defect; other database errors are defects and pass."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            reason = (str(exc.orig or exc).strip().splitlines() or [type(exc).__name__])[0]
            raise StoreUnavailable(f"database unavailable: {reason}") from exc

    return wrapper


def index_storage(settings: LibrarySettings) -> IndexStorage:
    """Where the index lives: files in INDEX_DIR, or with INDEX_BACKEND=pgvector the tables
    of DATABASE_URL (PostgreSQL)."""
    if settings.index_backend == PGVECTOR:
        from retrieval.backends.postgres import (
            PgIndexStore,  # psycopg and pgvector: the postgres extra
        )

        return PgIndexStore(settings.database_url, settings.database_read_url)
    return IndexStore(settings.index_dir, get_backend(settings.index_backend))


class Library:
    """Articles in, cited passages out."""

    def __init__(self, engine: Engine, encoder: Encoder, index: IndexStorage) -> None:
        self.engine = engine
        self.session_factory = make_session_factory(engine)
        self.encoder = encoder
        self.index = index
        self.retriever = Retriever(encoder, self.session_factory, None)
        self._write_lock = threading.Lock()  # ingest and delete serialize with each other
        self._reload_lock = threading.Lock()
        self.readers = Readers()  # searches in flight: builds yield to them
        self.load_error: IndexCorrupt | IndexMismatch | IndexNotReady | None = None
        self.served_generation: str | None = None

    @classmethod
    @_store_errors
    def open(cls, settings: LibrarySettings, encoder: Encoder | None = None) -> Library:
        """Connect to the database, load the model (once per process) and the current index."""
        engine = create_db_engine(settings.database_url)
        init_db(engine)
        if encoder is None:
            encoder = load_encoder(settings.model, settings.cache_dir)
        library = cls(engine, encoder, index_storage(settings))
        library.reload()
        return library

    def close(self) -> None:
        """Close the database connections (the corpus's, and the index's when it has its own)."""
        self.index.close()
        self.engine.dispose()

    def reload(self) -> None:
        """Serve the current index version from disk; a bad one is remembered, not raised,
        so a process can still start and rebuild (`prepare`) instead of failing."""
        self.load_error = None
        name = self.index.current_name()
        self.served_generation = name
        if name is None:
            return
        try:
            self.retriever.swap(self.index.load(self.encoder))
        except (IndexCorrupt, IndexMismatch, IndexNotReady) as exc:
            self.load_error = exc
        release_free_memory()

    @_store_errors
    def prepare(
        self, corpus_dir: Path = BUNDLED_CORPUS, *, show_progress: bool = False
    ) -> PrepareReport:
        """Make the library ready to answer: on first run ingest `corpus_dir`, rebuild a bad
        index from scratch, bring a stale one up to date."""
        ingested = None
        if self.corpus_stats().articles == 0:
            ingested = self.ingest_paths([corpus_dir])
        reason = str(self.load_error) if self.load_error is not None else None
        # A bad index is rebuilt as a new generation from the stored vectors (a new model's
        # vectors are not stored yet: they are encoded).
        fresh = reason is not None
        build = self.build(fresh=fresh, show_progress=show_progress) if self.is_stale() else None
        return PrepareReport(ingested, reason, build)

    # --- questions ---------------------------------------------------------------------------
    @_store_errors
    def search(
        self,
        question: str,
        k: int = 5,
        *,
        mode: Mode = "hybrid",
        offset: int = 0,
        fold: bool = True,
    ) -> list[Hit]:
        """Best passages for a question (see Retriever.search)."""
        self._serve_current()
        self.readers.reading_threads()
        with self.readers.reading():
            return self.retriever.search(question, k, mode=mode, offset=offset, fold=fold)

    def warm(self) -> None:
        """Ready for questions: what the first would pay for, paid now (`Retriever.warm`)."""
        self.retriever.warm()

    @_store_errors
    def search_many(self, queries: Sequence[Query]) -> list[list[Hit] | RetrievalError]:
        """Several questions in one batch (see Retriever.search_many)."""
        self._serve_current()
        self.readers.reading_threads()
        with self.readers.reading():
            return self.retriever.search_many(queries)

    @_store_errors
    def latest(
        self, topic: str | None = None, k: int = 5, *, min_relevance: float = MIN_RELEVANCE
    ) -> list[Hit]:
        """The newest articles, or the newest of those relevant to `topic` (`recency.about`:
        «النفط», «النفط اليوم»): what `/latest` lists."""
        recency = about(topic or "")
        query = Query(topic or "", k, recency=recency, min_relevance=min_relevance, explain=0)
        [result] = self.search_many([query])
        if isinstance(result, RetrievalError):
            raise result
        return [h for h in result if h.passes(min_relevance)]

    @_store_errors
    def reference_time(self) -> datetime:
        """The moment "today" means for the corpus: now, or an archive's newest article
        (retrieval/recency.py)."""
        return self.retriever.reference_time()

    @_store_errors
    def match_topics(
        self, topics: Sequence[str], article_ids: Sequence[int]
    ) -> dict[str, list[TopicMatch]]:
        """How much each of these articles is about each topic, most first (see
        Retriever.match): for alerts to the users who follow a topic. Articles must be indexed
        first."""
        self._serve_current()
        with self.session_factory() as session:
            passages = article_passages(session, article_ids)
        self.readers.reading_threads()
        with self.readers.reading():
            return self.retriever.match(topics, passages)

    def _serve_current(self) -> None:
        if self.index.current_name() != self.served_generation:
            with self._reload_lock:  # one thread loads it; the others then see it served
                if self.index.current_name() != self.served_generation:
                    self.reload()  # another process switched generations (a rebuild finished)
        if self.load_error is not None and not self.ready:
            raise self.load_error

    @property
    def ready(self) -> bool:
        try:
            self.retriever.version  # noqa: B018 - raises when nothing is loaded
        except IndexNotReady:
            return False
        return True

    # --- corpus ------------------------------------------------------------------------------
    @_store_errors
    def article(self, article_id: int) -> ArticleView | None:
        """A stored article in full (citation and body), or None if there is none."""
        with self.session_factory() as session:
            return article_view(session, article_id)

    @_store_errors
    def ingest_paths(self, paths: Sequence[Path], *, show_progress: bool = False) -> IngestReport:
        """Read files/folders and store their articles (index with `build` afterwards).

        Streams: JSON Lines archives are read line by line and committed in batches, so memory
        stays bounded whatever their size.
        """
        problems: list[IngestProblem] = []
        records: Iterable[ArticleRecord] = stream_paths(paths, problems)
        if show_progress:
            from tqdm import tqdm

            records = tqdm(records, unit="article", desc="ingest", mininterval=1.0)
        return self._ingest(records, problems)

    @_store_errors
    def ingest_document(self, name: str, data: bytes) -> IngestReport:
        """Store the articles of one uploaded file (.txt, .md, .jsonl, .jsonl.gz, .json)."""
        records, problems = parse_document(name, data)
        return self._ingest(records, problems)

    @_store_errors
    def add_articles(self, records: Iterable[ArticleRecord]) -> IngestReport:
        """Store article records built in code (no file to parse)."""
        return self._ingest(records, [])

    def _ingest(
        self, records: Iterable[ArticleRecord], problems: list[IngestProblem]
    ) -> IngestReport:
        with self._write_lock, self.session_factory() as session:
            report = ingest_records(session, records, self._too_long)
        # `problems` is complete only now: a stream appends to it as it is read
        return replace(report, problems=[*problems, *report.problems])

    def _too_long(self, title: str, text: str) -> bool:
        """Whether the encoder would truncate this passage (then ingest cuts it further)."""
        embedded = embedding_text(IndexInput(0, title, text))
        return self.encoder.count_passage_tokens(embedded) > self.encoder.max_tokens

    @_store_errors
    def delete_article(self, article_id: int) -> bool:
        """Remove an article and its passages; searches skip it at once, and the next `build`
        (the bot runs one right after) takes its passages out of the index."""
        with self._write_lock, self.session_factory() as session:
            return delete_article(session, article_id)  # commits

    # --- index -------------------------------------------------------------------------------
    @_store_errors
    def build(
        self,
        *,
        full: bool = False,
        fresh: bool = False,
        progress: Progress | None = None,
        show_progress: bool = False,
    ) -> BuildReport:
        """Bring the index up to the corpus: removed passages leave, new ones are answerable by
        keywords at once and by meaning batch by batch as they are embedded. `fresh` builds a
        new generation from the stored vectors; `full` re-embeds every passage into one."""
        report = self.index.sync(
            StoredCorpus(self.session_factory),
            self.encoder,
            full=full,
            fresh=fresh,
            progress=progress,
            show_progress=show_progress,
            readers=self.readers,
        )
        if self.index.current_name() != self.served_generation or not self.ready:
            self.reload()
        else:
            self.retriever.version.refresh()
        return report

    @_store_errors
    def is_stale(self) -> bool:
        """True when the corpus changed since the served index was built (or none exists)."""
        if not self.ready:
            return True
        version = self.retriever.version
        version.refresh()
        if version.pending():
            return True
        with self.session_factory() as session:
            fingerprint = corpus_fingerprint(session)
        return version.meta.get("corpus_hash") != fingerprint

    @_store_errors
    def corpus_stats(self) -> CorpusStats:
        """Article and passage counts, sources and date range of the stored corpus."""
        with self.session_factory() as session:
            return corpus_stats(session)

    @_store_errors
    def stats(self) -> LibraryStats:
        """The corpus counts and the state of the served index."""
        corpus = self.corpus_stats()
        if not self.ready:
            return LibraryStats(corpus, None, None, 0, True)
        version = self.retriever.version
        stale = self.is_stale()
        return LibraryStats(
            corpus, version.name, version.meta.get("built_at"), version.passages(), stale
        )
