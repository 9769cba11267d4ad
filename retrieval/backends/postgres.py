"""The index inside PostgreSQL (INDEX_BACKEND=pgvector): for deployments past one machine.

Tables (migration 0002): passage vectors in `passage_vectors.embedding vector(384)` under an
HNSW index (cosine), searched by pgvector; BM25 postings of the project's Arabic analyzer
(`retrieval.arabic`) in `lexical_postings` (term -> passage, term count, passage length,
all in the primary key's index, so a query term is one index-only scan), document
frequencies in `lexical_terms`; what the index holds in `index_members`; the spelling table in
`index_words`; every vector ever encoded, by model + text, in `index_embeddings`.

Unlike the embedded default (`retrieval.index`: files of one machine, a change log each
process follows), every process reads the same tables: a passage is answerable by every
replica once its transaction commits, a deleted article's passages leave both searches at
once (ON DELETE CASCADE), and there are no files to rebuild or reload. One writer at a time
holds a PostgreSQL advisory lock, across machines.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError

from retrieval.arabic import ANALYZER_VERSION, analyze_document, analyze_query
from retrieval.backends.base import Ranked
from retrieval.backends.lexical_tantivy import K1, B
from retrieval.encoder import Encoder
from retrieval.errors import BuildInProgress, IndexMismatch, IndexNotReady
from retrieval.index import (
    LEXICAL_BATCH,
    CorpusSource,
    IndexInput,
    Progress,
    check_model,
    embedding_key,
    embedding_text,
    encode_pending,
)
from retrieval.readers import Readers
from retrieval.spelling import ModelSpelling, Spelling
from retrieval.types import BuildReport

BACKEND: Final = "pgvector"
FORMAT: Final = 1
DIM: Final = 384  # the column's dimension (migration 0002): the bundled model's
# hnsw.ef_search, the candidate list HNSW keeps while searching (pgvector's default is 40).
# Recall@10 against exact search on 32,768 real model vectors asked the ARCD-test questions
# (the ten nearest within 0.0007 of cosine), one run, six settings interleaved per question
# (benchmarks/hnsw_graphs.py; benchmarks/pgvector.py gives the whole ef curve): graph m 24 /
# ef_construction 200 (migration 0006) 0.9942 at 500 (22.5 ms a search), 0.9919 at 400
# (19.3 ms); the graph before it, m 16, needed 800 for 0.9940 (30.1 ms) and gave 0.9828 at 400
# (15.4 ms).
EF_SEARCH: Final = 500
# A build that changes at least this many passages ends with VACUUM (ANALYZE) of the index
# tables. Until the visibility map and the statistics catch up (autovacuum waits for 20% of a
# table to change), BM25 reads postings from the heap instead of the index alone: at 60,000
# passages a question of common words took 244 ms before, 17 ms after (EXPLAIN ANALYZE).
VACUUM_AFTER: Final = 1000
INDEX_TABLES: Final = ("lexical_postings", "lexical_terms", "index_members", "passage_vectors")
# pg_try_advisory_lock key of the one index writer ("sanadidx" in ASCII)
BUILD_LOCK: Final = 0x73616E6164696478

log = logging.getLogger(__name__)


def index_engine(url: str) -> Engine:
    """An engine whose connections pass numpy vectors to and from `vector` columns (pgvector's
    psycopg adapter). The extension must exist: `corpus.schema.migrate` creates it."""
    from pgvector.psycopg import register_vector

    engine = create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=8)

    @event.listens_for(engine, "connect")
    def _vectors(dbapi_connection: Any, _record: Any) -> None:
        register_vector(dbapi_connection)
        with dbapi_connection.cursor() as cursor:  # for the session: no SET per search
            cursor.execute(f"SET hnsw.ef_search = {EF_SEARCH}")
        dbapi_connection.commit()

    return engine


def _meta(connection: Connection) -> dict[str, str]:
    return dict(connection.execute(text("SELECT key, value FROM index_meta")).all())


def _set_meta(connection: Connection, values: Mapping[str, object]) -> None:
    connection.execute(
        text(
            "INSERT INTO index_meta (key, value) VALUES (:key, :value) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        ),
        [{"key": k, "value": str(v)} for k, v in values.items()],
    )


class Reads:
    """Connections for searches. Within `batch()` one connection per thread serves every read
    of that batch: a question makes about eight, and each checkout costs a round trip of its
    own (the pool pings a connection before lending it, so an outage is survived)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._local = threading.local()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        if getattr(self._local, "connection", None) is not None:
            yield
            return
        with self.engine.connect() as connection:
            self._local.connection = connection
            try:
                yield
            finally:
                self._local.connection = None

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        held = getattr(self._local, "connection", None)
        if held is not None:
            yield held
            return
        with self.engine.connect() as connection:
            yield connection


class PgLexical:
    """BM25 (`K1`, `B`: the embedded backend's constants, tuned on ARCD-train) computed in SQL
    over every passage holding a query term; a repeated query term counts again. N and the
    mean length come from `meta` (the served index's, read at each refresh)."""

    def __init__(self, reads: Reads, meta: Callable[[], Mapping[str, str]]) -> None:
        self.reads = reads
        self._meta = meta

    def search(self, query: str, k: int) -> Ranked:
        terms = analyze_query(query)
        if not terms or k <= 0:
            return []
        counts = Counter(terms)
        meta = self._meta()
        total = int(meta.get("lexical_docs", 0))
        length_sum = int(meta.get("lexical_terms_sum", 0))
        if total <= 0:
            return []
        # One round trip: each term's idf, Lucene's ln(1 + (N - df + 0.5) / (df + 0.5)) as the
        # embedded backend's, is computed in the join from its df.
        with self.reads.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT p.passage_id, sum(q.n * "
                    "ln(1.0 + (CAST(:total AS float8) - t.df + 0.5) / (t.df + 0.5)) "
                    "* p.tf * :k1p / "
                    "(p.tf + :k1 * (1 - :b + :b * p.terms / :avgdl))) AS score "
                    "FROM unnest(CAST(:terms AS text[]), CAST(:counts AS float8[])) AS q(term, n) "
                    "JOIN lexical_terms t ON t.term = q.term AND t.df > 0 "
                    "JOIN lexical_postings p ON p.term = q.term "
                    "GROUP BY p.passage_id ORDER BY score DESC, p.passage_id LIMIT :k"
                ),
                {
                    "terms": list(counts),
                    "counts": [float(n) for n in counts.values()],
                    "total": float(total),
                    "k1": K1,
                    "k1p": K1 + 1.0,
                    "b": B,
                    "avgdl": length_sum / total,
                    "k": k,
                },
            )
            return [(int(pid), float(score)) for pid, score in rows]

    def __len__(self) -> int:
        return int(self._meta().get("lexical_docs", 0))


class PgLiveIndex:
    """The index as a process serves it (`retrieval.index.ServedIndex`): every search reads
    the tables, so what any process commits is served at once; only the spelling table is
    cached, and `refresh` reads the words that changed since."""

    def __init__(self, name: str, engine: Engine) -> None:
        self.name = name
        self.engine = engine
        self.reads = Reads(engine)
        self.lexical = PgLexical(self.reads, lambda: self.meta)
        self._lock = threading.Lock()
        with engine.connect() as connection:
            self.meta = _meta(connection)
            self._seq = int(
                connection.execute(text("SELECT coalesce(max(seq), 0) FROM index_words")).scalar()
                or 0
            )
            words = connection.execute(text("SELECT word, n FROM index_words")).all()
        self.spelling = Spelling(dict(words))

    @property
    def size(self) -> int:
        """Passages served by the dense side."""
        with self.engine.connect() as connection:
            return int(
                connection.execute(text("SELECT count(*) FROM passage_vectors")).scalar() or 0
            )

    def refresh(self) -> None:
        """Read the settings and the spelling words committed since the last call."""
        with self.reads.connect() as connection:
            meta = _meta(connection)
            rows = connection.execute(
                text("SELECT word, n, seq FROM index_words WHERE seq > :seq"),
                {"seq": self._seq},
            ).all()
        with self._lock:
            self.meta = meta
            if rows:
                self.spelling.update({word: n for word, n, _ in rows})
                self._seq = max(self._seq, *(seq for _, _, seq in rows))

    def dense_search(self, query: np.ndarray, k: int) -> Ranked:
        """Up to `k` (passage id, cosine) by HNSW (approximate; see EF_SEARCH)."""
        if k <= 0:
            return []
        with self.reads.connect() as connection:
            if k > EF_SEARCH:  # HNSW returns at most ef_search rows (for this transaction)
                connection.execute(
                    text("SELECT set_config('hnsw.ef_search', :ef, true)"), {"ef": str(k)}
                )
            rows = connection.execute(
                text(
                    "SELECT passage_id, 1 - (embedding <=> :q) FROM passage_vectors "
                    "ORDER BY embedding <=> :q LIMIT :k"
                ),
                {"q": np.asarray(query, dtype=np.float32), "k": k},
            )
            return [(int(pid), float(score)) for pid, score in rows]

    def dense_scores(self, query: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        """Cosines computed by the server: shipping 50 vectors to compute them here cost
        ~10 ms a question (each parsed from text)."""
        if not ids:
            return {}
        with self.reads.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT passage_id, 1 - (embedding <=> :q) FROM passage_vectors "
                    "WHERE passage_id = ANY(:ids)"
                ),
                {"q": np.asarray(query, dtype=np.float32), "ids": [int(i) for i in ids]},
            )
            return {int(pid): float(score) for pid, score in rows}

    def reading(self) -> contextlib.AbstractContextManager[None]:
        return self.reads.batch()

    def respell(self, text_: str, model: ModelSpelling | None) -> str:
        with self._lock:
            return self.spelling.respell(text_, model)

    def pending(self) -> int:
        """Passages held lexically whose vectors are not served yet."""
        with self.engine.connect() as connection:
            return int(
                connection.execute(
                    text("SELECT count(*) FROM index_members WHERE NOT dense")
                ).scalar()
                or 0
            )

    def passages(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM index_members")).scalar() or 0)


class PgIndexStore:
    """The index tables of one PostgreSQL database (`retrieval.index.IndexStorage`)."""

    backend_name = BACKEND

    def __init__(self, url: str, read_url: str | None = None) -> None:
        self.url = url
        self.engine = index_engine(url)
        # Searches may read a streaming replica (DATABASE_READ_URL): writes and the build lock
        # stay on the primary; what the primary commits is answered once the replica replays it.
        self.read_engine = index_engine(read_url) if read_url else self.engine

    def close(self) -> None:
        self.engine.dispose()
        self.read_engine.dispose()

    def current_name(self) -> str | None:
        """The generation served: it changes only when every vector is replaced (a new
        model); None before the first build."""
        with self.engine.connect() as connection:
            value = connection.execute(
                text("SELECT value FROM index_meta WHERE key = 'generation'")
            ).scalar()
        return str(value) if value else None

    def load(self, encoder: Encoder) -> PgLiveIndex:
        """The index as served; it must match `encoder`."""
        with self.engine.connect() as connection:
            meta = _meta(connection)
        name = meta.get("generation")
        if not name:
            raise IndexNotReady("no index in the database yet: run `python -m retrieval build`")
        check_model(meta, encoder, "run `python -m retrieval build`")
        if meta.get("analyzer") != ANALYZER_VERSION or meta.get("format") != str(FORMAT):
            raise IndexMismatch(
                f"index built with analyzer {meta.get('analyzer')!r}, format "
                f"{meta.get('format')}; this code uses {ANALYZER_VERSION!r}, format {FORMAT}: "
                "run `python -m retrieval build`"
            )
        return PgLiveIndex(name, self.read_engine)

    @contextlib.contextmanager
    def build_lock(self) -> Iterator[None]:
        """One writer at a time across every process and machine (a session advisory lock,
        released when the connection closes, so a killed writer never leaves it held)."""
        with self.engine.connect() as connection:
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": BUILD_LOCK}
            ).scalar()
            if not got:
                raise BuildInProgress("another index build is running")
            try:
                yield
            finally:
                # A connection lost meanwhile took the lock with it: nothing to release.
                with contextlib.suppress(SQLAlchemyError):
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": BUILD_LOCK})
                    connection.commit()

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
        """Bring the index up to `corpus`, in place: passages that left are removed, new ones
        are indexed lexically (answerable by keywords when their batch commits), then their
        vectors are taken from the store or encoded, batch by batch. `fresh` re-analyzes every
        passage in one transaction (readers see the old postings until it commits); `full`
        re-encodes every vector; a new model drops the old vectors first."""
        if encoder.dim != DIM:
            raise IndexMismatch(
                f"model {encoder.name} has {encoder.dim} dimensions; the pgvector column has "
                f"{DIM}: a model of another size needs a migration of its own"
            )
        with self.build_lock():
            started = time.perf_counter()
            fingerprint = corpus.fingerprint()
            wanted = corpus.passage_ids()
            with self.engine.begin() as connection:
                meta = _meta(connection)
                new_model = meta.get("model_fingerprint") != encoder.fingerprint
                relex = (
                    fresh
                    or new_model
                    or meta.get("analyzer") != ANALYZER_VERSION
                    or meta.get("format") != str(FORMAT)
                )
                if new_model:
                    connection.execute(text("DELETE FROM passage_vectors"))
                    connection.execute(text("UPDATE index_members SET dense = false"))
                if new_model or not meta.get("generation"):
                    _set_meta(connection, self._meta(encoder))
                if full:
                    connection.execute(text("UPDATE index_members SET dense = false"))
            if relex:
                removed, added = self._relex(corpus, encoder, wanted)
            else:
                removed, added = self._update_lexical(corpus, encoder, wanted)
            embedded, reused = self._embed_pending(
                corpus, encoder, full, progress, show_progress, readers
            )
            with self.engine.begin() as connection:
                _set_meta(
                    connection,
                    {
                        "format": FORMAT,
                        "analyzer": ANALYZER_VERSION,
                        "corpus_hash": fingerprint,
                        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    },
                )
                total = int(
                    connection.execute(text("SELECT count(*) FROM index_members")).scalar() or 0
                )
                stored = int(
                    connection.execute(text("SELECT count(*) FROM index_embeddings")).scalar() or 0
                )
                if stored > 1.25 * total + 1000:  # vectors no passage uses any more
                    connection.execute(
                        text(
                            "DELETE FROM index_embeddings e WHERE NOT EXISTS "
                            "(SELECT 1 FROM index_members m WHERE m.key = e.key)"
                        )
                    )
                name = _meta(connection)["generation"]
            if max(total if relex else removed + added, embedded) >= VACUUM_AFTER:
                self._vacuum()
            seconds = time.perf_counter() - started
            return BuildReport(name, total, embedded, reused, seconds, removed, added)

    def _vacuum(self) -> None:
        """VACUUM (ANALYZE) the index tables (see VACUUM_AFTER); a role that may not is only
        slower until autovacuum runs."""
        with self.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            for table in INDEX_TABLES:
                try:
                    connection.execute(text(f"VACUUM (ANALYZE) {table}"))
                except SQLAlchemyError as exc:
                    log.warning("VACUUM (ANALYZE) %s failed: %s", table, exc)

    def _meta(self, encoder: Encoder) -> dict[str, object]:
        return {
            "generation": datetime.now(UTC).strftime("pg%Y%m%dT%H%M%S%fZ"),
            "backend": BACKEND,
            "model": encoder.name,
            "model_fingerprint": encoder.fingerprint,
            "dim": encoder.dim,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    # --- lexical side ----------------------------------------------------------------------
    def _relex(self, corpus: CorpusSource, encoder: Encoder, wanted: set[int]) -> tuple[int, int]:
        """Every passage analyzed again, in one transaction; vectors of unchanged passages
        keep serving (their members row keeps `dense`)."""
        with self.engine.begin() as connection:
            members = connection.execute(text("SELECT passage_id, key, dense FROM index_members"))
            held, served = set(), {}
            for pid, key, dense in members:
                held.add(int(pid))
                if dense:
                    served[int(pid)] = bytes(key)
            for table in ("lexical_postings", "lexical_terms", "index_members", "index_words"):
                connection.execute(text(f"DELETE FROM {table}"))
            _set_meta(connection, {"lexical_docs": 0, "lexical_terms_sum": 0})
            ids = sorted(wanted)
            for start in range(0, len(ids), LEXICAL_BATCH):
                _add_lexical(
                    connection, corpus, encoder, ids[start : start + LEXICAL_BATCH], served
                )
            connection.execute(
                text(
                    "DELETE FROM passage_vectors v WHERE NOT EXISTS (SELECT 1 FROM "
                    "index_members m WHERE m.passage_id = v.passage_id AND m.dense)"
                )
            )
        return len(held - wanted), len(wanted - held)

    def _update_lexical(
        self, corpus: CorpusSource, encoder: Encoder, wanted: set[int]
    ) -> tuple[int, int]:
        with self.engine.connect() as connection:
            held = {
                int(pid)
                for (pid,) in connection.execute(text("SELECT passage_id FROM index_members"))
            }
        removed = sorted(held - wanted)
        if removed:
            with self.engine.begin() as connection:
                _remove(connection, removed)
        added = sorted(wanted - held)
        for start in range(0, len(added), LEXICAL_BATCH):
            with self.engine.begin() as connection:  # answerable by keywords batch by batch
                _add_lexical(connection, corpus, encoder, added[start : start + LEXICAL_BATCH])
        return len(removed), len(added)

    # --- dense side ------------------------------------------------------------------------
    def _embed_pending(
        self,
        corpus: CorpusSource,
        encoder: Encoder,
        full: bool,
        progress: Progress | None,
        show_progress: bool,
        readers: Readers | None,
    ) -> tuple[int, int]:
        """Serve a vector for every pending passage: a stored one (unless `full`), else
        encoded shortest first, EMBED_BATCH at a time (fewer while `readers` search), each
        batch committed with the vectors it serves. Returns (encoded, reused)."""
        with self.engine.connect() as connection:
            pending = [
                (int(pid), bytes(key))
                for pid, key in connection.execute(
                    text(
                        "SELECT passage_id, key FROM index_members WHERE NOT dense "
                        "ORDER BY length, passage_id"
                    )
                )
            ]
        reused = 0
        if not full and pending:
            with self.engine.begin() as connection:
                reused = int(
                    connection.execute(
                        text(
                            "WITH served AS (INSERT INTO passage_vectors (passage_id, embedding) "
                            "SELECT m.passage_id, e.embedding FROM index_members m "
                            "JOIN index_embeddings e ON e.key = m.key "
                            "JOIN passages p ON p.id = m.passage_id WHERE NOT m.dense "
                            "ON CONFLICT (passage_id) DO UPDATE SET embedding = excluded.embedding "
                            "RETURNING passage_id) "
                            "UPDATE index_members SET dense = true "
                            "WHERE passage_id IN (SELECT passage_id FROM served)"
                        )
                    ).rowcount
                    or 0
                )
                done = {
                    int(pid)
                    for (pid,) in connection.execute(
                        text("SELECT passage_id FROM index_members WHERE dense")
                    )
                }
            pending = [(pid, key) for pid, key in pending if pid not in done]

        def serve(items: Sequence[IndexInput], keys: Sequence[bytes], vectors: np.ndarray) -> None:
            with self.engine.begin() as connection:
                _serve_vectors(connection, [item.passage_id for item in items], keys, vectors)

        encode_pending(pending, corpus, encoder, serve, progress, show_progress, readers)
        return len(pending), reused


def _add_lexical(
    connection: Connection,
    corpus: CorpusSource,
    encoder: Encoder,
    ids: Sequence[int],
    served: Mapping[int, bytes] | None = None,
) -> None:
    """Index these passages lexically: members, postings, document frequencies, statistics
    and spelling words. A passage whose embedding key is in `served` keeps serving its
    vector."""
    items: list[IndexInput] = corpus.passages(ids)
    if not items:
        return
    texts = [embedding_text(item) for item in items]
    keys = [embedding_key(encoder.fingerprint, t) for t in texts]
    analyzed = [analyze_document(t) for t in texts]
    served = served or {}
    raw: Any = connection.connection.dbapi_connection  # psycopg's, for COPY
    with raw.cursor() as cursor:
        with cursor.copy(
            "COPY index_members (passage_id, key, length, terms, dense, text) FROM STDIN"
        ) as copy:
            for item, key, t, terms in zip(items, keys, texts, analyzed, strict=True):
                dense = served.get(item.passage_id) == key
                copy.write_row((item.passage_id, key, len(t), len(terms), dense, t))
        with cursor.copy("COPY lexical_postings (term, passage_id, tf, terms) FROM STDIN") as copy:
            for item, terms in zip(items, analyzed, strict=True):
                for term, tf in Counter(terms).items():
                    copy.write_row((term, item.passage_id, tf, len(terms)))
    df: Counter[str] = Counter()
    for terms in analyzed:
        df.update(set(terms))
    _add_terms(connection, df, +1)
    _add_stats(connection, len(items), sum(len(terms) for terms in analyzed))
    _add_words(connection, Spelling.count(texts), +1)


def _remove(connection: Connection, ids: Sequence[int]) -> None:
    """Take these passages out of the index (the article may be gone already: its postings
    and vector then left with it, by ON DELETE CASCADE)."""
    texts = [
        str(t)
        for (t,) in connection.execute(
            text("DELETE FROM index_members WHERE passage_id = ANY(:ids) RETURNING text"),
            {"ids": list(ids)},
        )
    ]
    connection.execute(
        text("DELETE FROM lexical_postings WHERE passage_id = ANY(:ids)"), {"ids": list(ids)}
    )
    connection.execute(
        text("DELETE FROM passage_vectors WHERE passage_id = ANY(:ids)"), {"ids": list(ids)}
    )
    analyzed = [analyze_document(t) for t in texts]
    df: Counter[str] = Counter()
    for terms in analyzed:
        df.update(set(terms))
    _add_terms(connection, df, -1)
    _add_stats(connection, -len(texts), -sum(len(terms) for terms in analyzed))
    _add_words(connection, Spelling.count(texts), -1)


def _add_terms(connection: Connection, df: Mapping[str, int], sign: int) -> None:
    if not df:
        return
    connection.execute(
        text(
            "INSERT INTO lexical_terms (term, df) "
            "SELECT * FROM unnest(CAST(:terms AS text[]), CAST(:dfs AS integer[])) "
            "ON CONFLICT (term) DO UPDATE SET df = greatest(0, lexical_terms.df + excluded.df)"
        ),
        {"terms": list(df), "dfs": [sign * n for n in df.values()]},
    )
    if sign < 0:
        connection.execute(text("DELETE FROM lexical_terms WHERE df <= 0"))


def _add_stats(connection: Connection, docs: int, terms: int) -> None:
    connection.execute(
        text(
            "INSERT INTO index_meta (key, value) VALUES ('lexical_docs', :docs), "
            "('lexical_terms_sum', :terms) ON CONFLICT (key) DO UPDATE SET value = "
            "(CAST(index_meta.value AS bigint) + CAST(excluded.value AS bigint))::text"
        ),
        {"docs": str(docs), "terms": str(terms)},
    )


def _add_words(connection: Connection, counts: Mapping[str, int], sign: int) -> None:
    words = [w for w, n in counts.items() if n]
    if not words:
        return
    connection.execute(
        text(
            "INSERT INTO index_words (word, n, seq) "
            "SELECT w, n, nextval('index_words_seq') FROM "
            "unnest(CAST(:words AS text[]), CAST(:ns AS integer[])) AS u(w, n) "
            "ON CONFLICT (word) DO UPDATE SET n = greatest(0, index_words.n + excluded.n), "
            "seq = excluded.seq"
        ),
        {"words": words, "ns": [sign * counts[w] for w in words]},
    )


def _serve_vectors(
    connection: Connection, ids: Sequence[int], keys: Sequence[bytes], vectors: np.ndarray
) -> None:
    """Store these vectors by key and serve them for these passages, in one transaction."""
    rows = [
        {"pid": int(pid), "key": key, "v": np.asarray(v, dtype=np.float32)}
        for pid, key, v in zip(ids, keys, vectors, strict=True)
    ]
    connection.execute(
        text(
            "INSERT INTO index_embeddings (key, embedding) VALUES (:key, :v) "
            "ON CONFLICT (key) DO UPDATE SET embedding = excluded.embedding"
        ),
        rows,
    )
    connection.execute(
        text(
            "INSERT INTO passage_vectors (passage_id, embedding) "
            "SELECT :pid, CAST(:v AS vector) WHERE EXISTS (SELECT 1 FROM passages WHERE id = :pid) "
            "ON CONFLICT (passage_id) DO UPDATE SET embedding = excluded.embedding"
        ),
        rows,
    )
    connection.execute(
        text("UPDATE index_members SET dense = true WHERE passage_id = ANY(:ids)"),
        {"ids": [int(i) for i in ids]},
    )
