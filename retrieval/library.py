"""The one object the CLI and the bot use: corpus store + embedding model + index + retriever."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from corpus.ingest import (
    ArticleRecord,
    IngestProblem,
    IngestReport,
    ingest_records,
    parse_document,
    read_paths,
)
from corpus.store import (
    CorpusStats,
    all_passages,
    corpus_fingerprint,
    corpus_stats,
    create_db_engine,
    delete_article,
    init_db,
    make_session_factory,
)
from retrieval.encoder import Encoder, load_encoder
from retrieval.errors import IndexCorrupt, IndexMismatch, IndexNotReady
from retrieval.index import BuildReport, IndexInput, IndexStore, Progress
from retrieval.search import Mode, Retriever
from retrieval.settings import LibrarySettings
from retrieval.types import Hit


@dataclass(frozen=True)
class LibraryStats:
    corpus: CorpusStats
    index_version: str | None
    index_built_at: str | None
    index_passages: int
    index_stale: bool


class Library:
    """Articles in, cited passages out."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        encoder: Encoder,
        index: IndexStore,
        engine: Engine | None = None,
    ) -> None:
        self.engine = engine
        self.session_factory = session_factory
        self.encoder = encoder
        self.index = index
        self.retriever = Retriever(encoder, session_factory, None)
        self._write_lock = threading.Lock()  # ingest and delete serialize with each other
        self.load_error: IndexCorrupt | IndexMismatch | None = None

    @classmethod
    def open(cls, settings: LibrarySettings, encoder: Encoder | None = None) -> Library:
        """Connect to the database, load the model (once per process) and the current index."""
        engine = create_db_engine(settings.database_url)
        init_db(engine)
        if encoder is None:
            encoder = load_encoder(settings.model, settings.cache_dir)
        library = cls(make_session_factory(engine), encoder, IndexStore(settings.index_dir), engine)
        library.reload()
        return library

    def reload(self) -> None:
        """Serve the current index version from disk; a bad one is remembered, not raised,
        so a process can still start and rebuild (`prepare`) instead of failing."""
        self.load_error = None
        if self.index.current_name() is None:
            return
        try:
            self.retriever.swap(self.index.load(self.encoder))
        except (IndexCorrupt, IndexMismatch) as exc:
            self.load_error = exc

    # --- questions ---------------------------------------------------------------------------
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
        if self.load_error is not None and not self.ready:
            raise self.load_error
        return self.retriever.search(question, k, mode=mode, offset=offset, fold=fold)

    @property
    def ready(self) -> bool:
        try:
            self.retriever.version  # noqa: B018 - raises when nothing is loaded
        except IndexNotReady:
            return False
        return True

    # --- corpus ------------------------------------------------------------------------------
    def ingest_paths(self, paths: Sequence[Path]) -> IngestReport:
        """Read files/folders and store their articles (index with `build` afterwards)."""
        records, problems = read_paths(paths)
        return self._ingest(records, problems)

    def ingest_document(self, name: str, data: bytes) -> IngestReport:
        """Store the articles of one uploaded file (.txt, .md, .jsonl)."""
        records, problems = parse_document(name, data)
        return self._ingest(records, problems)

    def add_article(self, record: ArticleRecord) -> IngestReport:
        return self._ingest([record], [])

    def add_articles(self, records: Iterable[ArticleRecord]) -> IngestReport:
        """Store article records built in code (no file to parse)."""
        return self._ingest(records, [])

    def _ingest(
        self, records: Iterable[ArticleRecord], problems: list[IngestProblem]
    ) -> IngestReport:
        with self._write_lock, self.session_factory() as session:
            report = ingest_records(session, records)
        return replace(report, problems=[*problems, *report.problems])

    def delete_article(self, article_id: int) -> bool:
        """Remove an article and its passages (searches skip it at once; rebuild to compact)."""
        with self._write_lock, self.session_factory() as session:
            return delete_article(session, article_id)  # commits

    # --- index -------------------------------------------------------------------------------
    def build(
        self, *, full: bool = False, progress: Progress | None = None, show_progress: bool = False
    ) -> BuildReport:
        """Index the current corpus (reusing unchanged vectors unless `full`) and serve it."""
        with self.session_factory() as session:
            rows = all_passages(session)
            fingerprint = corpus_fingerprint(session)
        items = [IndexInput(r.passage_id, r.title, r.text) for r in rows]
        report = self.index.build(
            items,
            self.encoder,
            corpus_hash=fingerprint,
            full=full,
            progress=progress,
            show_progress=show_progress,
        )
        self.retriever.swap(self.index.load(self.encoder))
        return report

    def is_stale(self) -> bool:
        """True when the corpus changed since the served index was built (or none exists)."""
        if not self.ready:
            return True
        with self.session_factory() as session:
            fingerprint = corpus_fingerprint(session)
        return bool(self.retriever.version.manifest["corpus_hash"] != fingerprint)

    def stats(self) -> LibraryStats:
        with self.session_factory() as session:
            corpus = corpus_stats(session)
        if not self.ready:
            return LibraryStats(corpus, None, None, 0, True)
        manifest = self.retriever.version.manifest
        return LibraryStats(
            corpus,
            manifest["version"],
            manifest["built_at"],
            manifest["passages"],
            self.is_stale(),
        )
