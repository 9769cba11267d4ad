"""The on-disk index: generations that grow in place, over a durable embedding store.

Layout of INDEX_DIR:
    CURRENT                     name of the generation being served (replaced atomically)
    embeddings.sqlite           every passage vector ever encoded, by model + text
                                (`retrieval.vectorstore`); survives kills and generations
    generations/<name>/         catalog.sqlite (`retrieval.catalog`) + lexical/ (the backend's)
    build.lock                  held (flock) by the one writer allowed at a time

A sync brings the served generation up to the corpus: passages that left are removed from the
lexical and dense sides, new ones are indexed lexically at once (answerable by keywords), then
embedded in length-sorted batches, each batch committed to the embedding store before it is
served. A new generation is written aside and switched to atomically only when the model, the
backend or the analyzer changed, when the served one is unreadable, or on request (`full`); the
old one answers meanwhile. A killed sync loses at most the batch being encoded.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Protocol

import numpy as np

from retrieval.arabic import ANALYZER_VERSION, strip_marks
from retrieval.backends import DEFAULT_BACKEND, Backend, DenseIndex, LexicalIndex, get_backend
from retrieval.backends.base import Ranked
from retrieval.catalog import Catalog
from retrieval.encoder import Encoder
from retrieval.errors import BuildInProgress, IndexCorrupt, IndexMismatch, IndexNotReady
from retrieval.readers import Readers
from retrieval.spelling import ModelSpelling, Spelling
from retrieval.types import BuildReport
from retrieval.vectorstore import EmbeddingStore

FORMAT_VERSION: Final = 2
KEEP_GENERATIONS: Final = 1  # older ones are deleted; a process serving one keeps its open files
# Passages per encoder call and per durable commit. Builds sort every pending passage by length
# first; then 16 beat 32 and 64 (benchmarks/throughput.py: 14.3, 13.2, 10.7 passages/s).
EMBED_BATCH: Final = 16
LEXICAL_BATCH: Final = 2000  # passages per lexical commit while indexing new ones
TITLE_CHARS: Final = 200
_CATALOG, _LEXICAL, _STORE = "catalog.sqlite", "lexical", "embeddings.sqlite"

Progress = Callable[[int, int], None]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexInput:
    """One passage as the index sees it."""

    passage_id: int
    title: str
    text: str


class CorpusSource(Protocol):
    """What a sync reads of the corpus."""

    def passage_ids(self) -> set[int]: ...

    def passages(self, ids: Sequence[int]) -> list[IndexInput]:
        """Those of `ids` that still exist."""

    def fingerprint(self) -> str: ...


class LexicalSearch(Protocol):
    def search(self, query: str, k: int) -> Ranked: ...


class ServedIndex(Protocol):
    """The index as the retriever serves it: `LiveIndex` (files) or
    `backends.postgres.PgLiveIndex`."""

    name: str
    meta: dict[str, str]

    @property
    def lexical(self) -> LexicalSearch: ...

    @property
    def size(self) -> int: ...

    def refresh(self) -> None: ...

    def reading(self) -> contextlib.AbstractContextManager[None]:
        """Around one batch of searches by one thread (PostgreSQL: one connection for all)."""

    def dense_search(self, query: np.ndarray, k: int) -> Ranked: ...

    def dense_scores(self, query: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        """Cosine of `query` (shape (dim,), normalized) with each of these passages whose
        vector is served; the others are absent."""

    def respell(self, text: str, model: ModelSpelling | None) -> str: ...

    def pending(self) -> int: ...

    def passages(self) -> int: ...


class IndexStorage(Protocol):
    """Where an index lives and how it is kept up to the corpus: `IndexStore` (files of one
    machine, the default) or `backends.postgres.PgIndexStore` (PostgreSQL + pgvector, shared)."""

    def current_name(self) -> str | None: ...

    def load(self, encoder: Encoder) -> ServedIndex: ...

    def build_lock(self) -> contextlib.AbstractContextManager[None]: ...

    def close(self) -> None: ...

    def sync(
        self,
        corpus: CorpusSource,
        encoder: Encoder,
        *,
        full: bool = False,
        fresh: bool = False,
        progress: Progress | None = None,
        show_progress: bool = False,
        readers: Readers | None = None,
    ) -> BuildReport: ...


def check_model(meta: Mapping[str, str], encoder: Encoder, remedy: str) -> None:
    """IndexMismatch unless the index's settings `meta` name `encoder`'s fingerprint and
    dimension; `remedy` ends the message (what the caller's user should run)."""
    if meta.get("model_fingerprint") != encoder.fingerprint or meta.get("dim") != str(encoder.dim):
        raise IndexMismatch(
            f"index built with {meta.get('model')} ({meta.get('model_fingerprint')}, "
            f"dim {meta.get('dim')}), loaded model is {encoder.name} "
            f"({encoder.fingerprint}, dim {encoder.dim}): {remedy}"
        )


def embedding_text(item: IndexInput) -> str:
    """What gets embedded for a passage: its article title gives context the passage may lack;
    vocalization and invisible marks are stripped, as from questions (`arabic.strip_marks`)."""
    title = item.title[:TITLE_CHARS]  # a "title" longer than this is a paragraph, not context
    return strip_marks(f"{title}\n{item.text}" if title else item.text)


def embedding_key(encoder_fingerprint: str, text: str) -> bytes:
    """Vectors are reused across builds only for the same text under the same model."""
    return hashlib.sha256(f"{encoder_fingerprint}\0{text}".encode()).digest()


class LiveIndex:
    """One generation as a process serves it. `refresh` follows the catalog's change log, so
    what another process (or a build thread) commits is served at the next question."""

    def __init__(
        self,
        name: str,
        catalog: Catalog,
        store: EmbeddingStore,
        dense: DenseIndex,
        lexical: LexicalIndex,
    ) -> None:
        self.name = name
        self.catalog = catalog
        self.store = store
        self.dense = dense
        self.lexical = lexical
        self._lock = threading.Lock()  # guards dense, spelling, meta and the applied seq
        self._seq = catalog.last_seq()  # read before the data: changes after it are reapplied
        self._data_version = catalog.data_version()
        self.meta = catalog.meta()
        self._load_vectors([pid for pid, _ in catalog.dense_members()])
        self.spelling = Spelling(catalog.words())

    def _load_vectors(self, ids: Sequence[int]) -> None:
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            keys = self.catalog.keys_of(chunk)
            found = self.store.get(keys.values())
            held = [pid for pid in chunk if pid in keys and keys[pid] in found]
            if held:
                self.dense.add(held, np.vstack([found[keys[pid]] for pid in held]))

    @property
    def size(self) -> int:
        """Passages served by the dense side."""
        return len(self.dense)

    def reading(self) -> contextlib.AbstractContextManager[None]:
        """Nothing to hold: the index is in this process."""
        return contextlib.nullcontext()

    def refresh(self) -> None:
        """Apply what was committed since the last call (cheap when nothing was)."""
        with self._lock:
            version = self.catalog.data_version()
            if version == self._data_version:
                return
            self._data_version = version
            changes = self.catalog.changes_since(self._seq)
            if not changes:
                self.meta = self.catalog.meta()
                return
            added: list[int] = []
            removed: list[int] = []
            lexical = False
            for change in changes:
                if change.op == "dense" and change.passage_id is not None:
                    added.append(change.passage_id)
                elif change.op == "remove" and change.passage_id is not None:
                    removed.append(change.passage_id)
                    if change.passage_id in added:
                        added.remove(change.passage_id)
                elif change.op == "lexical":
                    lexical = True
            self.dense.remove(removed)
            self._load_vectors(added)
            if lexical:
                self.lexical.reload()
                self.spelling.update(self.catalog.words(self._seq))
            self._seq = changes[-1].seq
            self.meta = self.catalog.meta()

    def dense_search(self, query: np.ndarray, k: int) -> Ranked:
        with self._lock:
            return self.dense.search(query, k)

    def dense_scores(self, query: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        with self._lock:
            vectors = self.dense.vectors(ids)
        return {pid: float(vector @ query) for pid, vector in vectors.items()}

    def respell(self, text: str, model: ModelSpelling | None) -> str:
        with self._lock:
            return self.spelling.respell(text, model)

    def pending(self) -> int:
        """Passages held lexically whose vectors are not served yet."""
        total, dense = self.catalog.counts()
        return total - dense

    def passages(self) -> int:
        return self.catalog.counts()[0]


class IndexStore:
    """The index directory: syncs generations with the corpus, loads the current one."""

    def __init__(self, root: Path, backend: Backend | None = None) -> None:
        self.root = root
        self.generations = root / "generations"
        self.backend = backend or get_backend(DEFAULT_BACKEND)

    def close(self) -> None:
        """Nothing to close: each load and sync opens and closes its own files."""

    def current_name(self) -> str | None:
        try:
            return (self.root / "CURRENT").read_text().strip() or None
        except FileNotFoundError:
            return None

    def embeddings(self, dim: int) -> EmbeddingStore:
        return EmbeddingStore(self.root / _STORE, dim)

    def _repaired_embeddings(self, dim: int) -> tuple[EmbeddingStore, bool]:
        """The vector store for a build holding the lock, and whether it was damaged: then it is
        moved aside and a new one started (its vectors are encoded again)."""
        path = self.root / _STORE
        try:
            return EmbeddingStore(path, dim), False
        except IndexCorrupt:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            for suffix in ("", "-wal", "-shm"):
                aside = path.with_name(path.name + suffix)
                if aside.exists():
                    os.replace(aside, aside.with_name(f"{aside.name}.damaged-{stamp}"))
            log.warning("embedding store %s damaged: moved aside, starting a new one", path)
            return EmbeddingStore(path, dim), True

    def load(self, encoder: Encoder) -> LiveIndex:
        """Load and verify the current generation; it must match `encoder` and the backend."""
        name = self.current_name()
        if name is None:
            raise IndexNotReady(f"no index in {self.root}: run `python -m retrieval build`")
        folder = self.generations / name
        catalog = Catalog(folder / _CATALOG)
        self._check(catalog.meta(), encoder, folder)
        lexical = self.backend.lexical.open(folder / _LEXICAL)
        dense = self.backend.dense.empty(encoder.dim)
        return LiveIndex(name, catalog, self.embeddings(encoder.dim), dense, lexical)

    def _check(self, meta: dict[str, str], encoder: Encoder, folder: Path) -> None:
        if meta.get("format") != str(FORMAT_VERSION):
            raise IndexCorrupt(f"{folder}: index format {meta.get('format')}, expected 2")
        if meta.get("backend") != self.backend.name:
            raise IndexMismatch(
                f"index built with backend {meta.get('backend')}, INDEX_BACKEND is "
                f"{self.backend.name}: rebuild with --full"
            )
        check_model(meta, encoder, "rebuild with --full")

    @contextlib.contextmanager
    def build_lock(self) -> Iterator[None]:
        """One writer at a time, across processes (the bot and the CLI may both try)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / "build.lock").open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise BuildInProgress("another index build is running") from exc
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def sync(
        self,
        corpus: CorpusSource,
        encoder: Encoder,
        *,
        full: bool = False,
        fresh: bool = False,
        progress: Progress | None = None,
        show_progress: bool = False,
        readers: Readers | None = None,
    ) -> BuildReport:
        """Bring the index up to `corpus`: in place when the served generation fits `encoder`
        and the backend; else, or when `fresh` (stored vectors reused) or `full` (every passage
        re-embedded), in a new generation that is served once complete. Encoding yields to
        the searches `readers` counts (retrieval/readers.py)."""
        with self.build_lock():
            started = time.perf_counter()
            fingerprint = corpus.fingerprint()
            wanted = corpus.passage_ids()
            store, repaired = self._repaired_embeddings(encoder.dim)
            folder, fresh = self._target(encoder, full or fresh or repaired)
            catalog = Catalog(folder / _CATALOG, create=True)
            try:
                if fresh:
                    catalog.set_meta(self._meta(encoder))
                    lexical = self.backend.lexical.create(folder / _LEXICAL)
                else:
                    lexical = self.backend.lexical.open(folder / _LEXICAL)
                held = catalog.member_ids()
                removed = sorted(held - wanted)
                if removed:
                    gone = lexical.remove(removed)
                    catalog.remove(removed, _word_deltas(gone.values(), -1))
                added = sorted(wanted - held)
                for start in range(0, len(added), LEXICAL_BATCH):
                    batch = added[start : start + LEXICAL_BATCH]
                    self._add_lexical(catalog, lexical, corpus, encoder, batch)
                embedded, reused = _embed_pending(
                    catalog, store, corpus, encoder, full, progress, show_progress, readers
                )
                total, _ = catalog.counts()
                catalog.set_meta(
                    {
                        "corpus_hash": fingerprint,
                        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    }
                )
                if len(store) > 1.25 * total + 1000:  # vectors no passage uses any more
                    store.compact(catalog.all_keys())
            finally:
                catalog.close()
                store.close()
            if fresh:
                name = folder.name.removeprefix(".tmp-")
                os.replace(folder, self.generations / name)
                self._switch(name)
                self._prune()
            else:
                name = folder.name
            seconds = time.perf_counter() - started
            return BuildReport(name, total, embedded, reused, seconds, len(removed), len(added))

    def _add_lexical(
        self,
        catalog: Catalog,
        lexical: LexicalIndex,
        corpus: CorpusSource,
        encoder: Encoder,
        ids: Sequence[int],
    ) -> None:
        """Index passages lexically (answerable by keywords from here on); vectors pending."""
        items = corpus.passages(ids)
        texts = [embedding_text(item) for item in items]
        # Lexical commit first, then the catalog in one transaction: a crash between the two
        # leaves passages the catalog does not hold, which the next sync adds again (upsert
        # replaces them), never held passages missing from the lexical index.
        lexical.upsert([item.passage_id for item in items], texts)
        catalog.add_lexical(
            [
                (item.passage_id, embedding_key(encoder.fingerprint, text), len(text))
                for item, text in zip(items, texts, strict=True)
            ],
            _word_deltas(texts, +1),
        )

    def _meta(self, encoder: Encoder) -> dict[str, object]:
        return {
            "format": FORMAT_VERSION,
            "backend": self.backend.name,
            "model": encoder.name,
            "model_fingerprint": encoder.fingerprint,
            "dim": encoder.dim,
            "analyzer": ANALYZER_VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    def _target(self, encoder: Encoder, new: bool) -> tuple[Path, bool]:
        """The generation to sync: the served one when usable (and not `new`), else a new
        temporary one."""
        name = self.current_name()
        if name is not None and not new:
            folder = self.generations / name
            try:
                catalog = Catalog(folder / _CATALOG)
                try:
                    self._check(catalog.meta(), encoder, folder)
                finally:
                    catalog.close()
                self.backend.lexical.open(folder / _LEXICAL)
                return folder, False
            except (IndexCorrupt, IndexMismatch, IndexNotReady):
                pass
        self.generations.mkdir(parents=True, exist_ok=True)
        for stale in self.generations.glob(".tmp-*"):  # a killed build's unfinished generation
            shutil.rmtree(stale, ignore_errors=True)
        name = datetime.now(UTC).strftime("g%Y%m%dT%H%M%S%fZ")
        return self.generations / f".tmp-{name}", True

    def _switch(self, name: str) -> None:
        tmp = self.root / "CURRENT.tmp"
        with tmp.open("w") as f:
            f.write(name + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.root / "CURRENT")

    def _prune(self) -> None:
        shutil.rmtree(self.root / "versions", ignore_errors=True)  # format 1 (whole-index copies)
        current = self.current_name()
        names = sorted(p.name for p in self.generations.iterdir() if p.name.startswith("g"))
        for name in names[:-KEEP_GENERATIONS]:
            if name != current:
                shutil.rmtree(self.generations / name, ignore_errors=True)


def _word_deltas(texts: Iterable[str], sign: int) -> dict[str, int]:
    """Word count changes from adding (+1) or removing (-1) these texts."""
    return {word: sign * n for word, n in Spelling.count(texts).items()}


def _embed_pending(
    catalog: Catalog,
    store: EmbeddingStore,
    corpus: CorpusSource,
    encoder: Encoder,
    full: bool,
    progress: Progress | None,
    show_progress: bool,
    readers: Readers | None = None,
) -> tuple[int, int]:
    """Serve a vector for every pending passage: stored ones at once (unless `full`), the rest
    encoded shortest first, EMBED_BATCH at a time (fewer while `readers` are searching), each
    batch stored before it is served. Returns (encoded, reused)."""
    pending = catalog.pending()  # shortest first: a batch costs what its longest passage costs
    reused = 0
    if not full:
        todo: list[tuple[int, bytes]] = []
        for start in range(0, len(pending), 5000):
            chunk = pending[start : start + 5000]
            found = store.get(key for _, key in chunk)
            hits = [pid for pid, key in chunk if key in found]
            catalog.mark_dense(hits)
            reused += len(hits)
            todo.extend((pid, key) for pid, key in chunk if key not in found)
        pending = todo

    def serve(items: Sequence[IndexInput], keys: Sequence[bytes], vectors: np.ndarray) -> None:
        store.put(keys, vectors)
        catalog.mark_dense([item.passage_id for item in items])

    encode_pending(pending, corpus, encoder, serve, progress, show_progress, readers)
    return len(pending), reused


Serve = Callable[[Sequence[IndexInput], Sequence[bytes], np.ndarray], None]


def encode_pending(
    pending: Sequence[tuple[int, bytes]],
    corpus: CorpusSource,
    encoder: Encoder,
    serve: Serve,
    progress: Progress | None = None,
    show_progress: bool = False,
    readers: Readers | None = None,
) -> None:
    """Encode `pending` (passage id, embedding key; shortest first: a batch costs what its
    longest passage costs), EMBED_BATCH at a time or fewer while `readers` are searching, and
    hand each batch to `serve` (items, their keys, vectors of shape (len(items), dim)), which
    stores it before serving it. A passage deleted meanwhile is skipped."""
    bar = None
    if show_progress and pending:
        from tqdm import tqdm

        bar = tqdm(total=len(pending), unit="passage", desc="embedding", smoothing=0.05)
    with readers.building() if readers is not None else contextlib.nullcontext():
        done = 0
        while done < len(pending):
            size = readers.before_batch(EMBED_BATCH) if readers is not None else EMBED_BATCH
            batch = dict(pending[done : done + size])
            items = corpus.passages(list(batch))
            if items:
                texts = [embedding_text(item) for item in items]
                vectors = encoder.encode_passages(texts, batch_size=size)
                serve(items, [batch[item.passage_id] for item in items], vectors)
            done += len(batch)
            if bar is not None:
                bar.update(len(batch))
            if progress is not None:
                progress(done, len(pending))
    if bar is not None:
        bar.close()
