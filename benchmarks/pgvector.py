"""The two index backends side by side at archive scale, and pgvector's HNSW recall.

    .venv/bin/python benchmarks/pgvector.py [--sizes 10000 30000 60000] [--questions 200]
        [--real-vectors 36000] [--recall-questions 702] [--encode-budget 600]
        [--archive FILE] [--qa FILE] [--pgdata /tmp/sanad-pgvector-bench/pgdata]
        [--cache /tmp/sanad-pgvector-bench] [--json benchmarks/results/pgvector.json]

PostgreSQL is a local PostgreSQL 16 + pgvector from the `pgserver` wheel at its defaults
(shared_buffers 128 MB, maintenance_work_mem 64 MB, fsync on; reached over a Unix socket); the
embedded default (faiss-tantivy) keeps its corpus in SQLite and its index files in a temporary
directory. Both sides see the same articles, through `retrieval.library.Library`.

Part 1, by corpus size. Each size is a passage count: the first articles of the archive, ingested
(product path: `ingest_paths` of JSON Lines) until the corpus holds at least that many passages;
the other backend ingests exactly the same lines. ONE corpus per backend GROWS from size to size
(10k -> 30k -> 60k passages): each size's build indexes only the passages added since the last
(the archive's first size from nothing). Passages are embedded by `benchmarks.scale`'s stand-in
(hashed bag-of-words vectors: no model cost in builds, and dense hits mean nothing); questions
are always encoded by the real model. One row per size and backend:
  articles / passages   the corpus after ingest (passages served = passages)
  build s (passages/s)  `build()` indexing the passages added since the previous size (lexical +
                        vectors; for pgvector COPY of postings, then the vectors in batches of
                        EMBED_BATCH, each batch one transaction maintaining the HNSW index);
                        passages/s = added passages / build s
  lexical s             of that build: from its start to the first vector batch served (the
                        lexical side, plus one batch of EMBED_BATCH vectors)
  dense/lexical/hybrid p50/p95 ms   `library.search(question, k=3, mode)`, in process, over
                        --questions ARCD-test questions after 5 warm-up ones, the three modes
                        interleaved per question (`benchmarks.scale.latency`): question encoding,
                        index, passage fetch and answer sentence included
  index dense / lexical p50 ms      the served index alone, as the retriever calls it:
                        `version.dense_search(question vector, 50)` and
                        `version.lexical.search(question, 50)` (50 = fusion.CANDIDATES), over the
                        same questions (vectors encoded beforehand)
  add→answer s          `add_articles([a new article])` + `build()` until a question about it gets
                        it as first hit (hybrid); in brackets another new article by the lexical
                        side alone, polled while its build runs; delete s: `delete_article` +
                        `build()` until it leaves the hits (`benchmarks.scale.add_and_delete`)
  HNSW build s          pgvector: `REINDEX INDEX passage_vectors_hnsw` over the whole table, at
                        the server's maintenance_work_mem (64 MB), then with it SET to 1 GB; the
                        graph served afterwards is the rebuilt one (latency is measured before)
  storage MB            faiss-tantivy: files under the index dir (FAISS vectors live in memory
                        too); pgvector: pg_total_relation_size of passage_vectors (HNSW index in
                        brackets), of lexical_postings + lexical_terms, and of the database

Part 2, HNSW recall on real model vectors: --real-vectors texts of the archive (per article in
order, its title then the first sentence of its body; repeats dropped), encoded by the real
model as passages (2,048 texts at a time in archive order, each chunk in length-sorted batches
of 64; when the rate so far says the next chunk would pass --encode-budget seconds, the set stops
there and the output says so; vectors are cached under --cache, so a re-run is quick), copied
into a table like passage_vectors (`vector(384)`) under an HNSW index of the definition the
product's migrations give passage_vectors_hnsw (read back from a migrated scratch database with
`pg_get_indexdef`: operator class, m, ef_construction; printed), created before the rows arrive,
as in the product, in transactions of 1,000 rows. Then --recall-questions ARCD-test questions
(`encode_queries`):
  recall@10             |HNSW top-10 ∩ exact top-10| / 10, averaged; exact = numpy over all
                        vectors (cosine); at hnsw.ef_search 40 (pgvector's default), 100,
                        200, 400, 500, 600, 800, 1000 (the largest pgvector allows) and the
                        product's `retrieval.backends.postgres.EF_SEARCH` (marked "product")
  recall@50             the same for the 50 candidates the retriever asks for, at
                        ef_search max(ef, 50) as the product sets it (HNSW returns at most
                        ef_search rows)
  10th cos gap          exact 10th cosine - cosine of HNSW's 10th hit, averaged (how much
                        worse the misses are; printed beside the exact neighbours' spread)
  p50 ms                of one such top-10 query (SET LOCAL + SELECT, one round trip each)
first on the graph built by the inserts ("insert-built"), then again after a REINDEX of it
("reindexed", a bulk build; its seconds are reported).

The tables also give p95s; the JSON holds the rest (plans, autovacuum state, notices).

Prints markdown tables and writes everything to --json.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# Run as a script, this file's folder leads sys.path, where this file (pgvector.py) would shadow
# the pgvector package the product imports. Appended first so that remove() always finds it: it
# takes out the leading entry when there is one, else the one just appended.
sys.path.append(str(Path(__file__).resolve().parent))
sys.path.remove(str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from benchmarks.scale import (
    StandinPassages,
    add_and_delete,
    folder_mb,
    latency,
    open_archive,
    questions,
)
from corpus.split import clean_text, content_sentences
from corpus.store import create_db_engine, init_db, scratch_database
from retrieval.backends import DEFAULT_BACKEND, PGVECTOR
from retrieval.backends.postgres import EF_SEARCH, index_engine
from retrieval.encoder import Encoder, load_encoder
from retrieval.fusion import CANDIDATES
from retrieval.library import Library
from retrieval.query import MODES
from retrieval.settings import LibrarySettings

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = (DEFAULT_BACKEND, PGVECTOR)
# hnsw.ef_search values measured: pgvector's default, the product's and others up to 1000, the
# largest pgvector allows
EF_VALUES = tuple(sorted({40, 100, 200, 400, 500, 600, 800, 1000, EF_SEARCH}))
RECALL_K = 10
ENCODE_BATCH = 64  # the real-vector set: short texts, larger batches than EMBED_BATCH
INSERT_BATCH = 1000
ENCODE_CHUNK = 2048  # real texts encoded between two looks at the budget


# --- the server ----------------------------------------------------------------------------
def start_server(pgdata: Path) -> tuple[Any, str]:
    """A local PostgreSQL 16 + pgvector (pgserver), stopped when this process exits; its
    SQLAlchemy URL (psycopg 3)."""
    import pgserver

    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    url = make_url(server.get_uri()).set(drivername="postgresql+psycopg")
    return server, url.render_as_string(hide_password=False)


def server_settings(url: str) -> dict[str, str]:
    """The server settings that matter here."""
    names = (
        "server_version",
        "shared_buffers",
        "maintenance_work_mem",
        "work_mem",
        "max_parallel_maintenance_workers",
        "synchronous_commit",
        "fsync",
    )
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            found = {
                name: str(connection.exec_driver_sql(f"SHOW {name}").scalar()) for name in names
            }
            found["pgvector"] = str(
                connection.exec_driver_sql(
                    "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'"
                ).scalar()
            )
    finally:
        engine.dispose()
    return found


# --- part 1: both backends by corpus size --------------------------------------------------
@dataclass
class Side:
    """One backend's growing library and where its ingest has got to in the archive."""

    backend: str
    library: Library
    work: Path
    lines_done: int = 0


def read_lines(archive: Path) -> list[bytes]:
    """Every line of the archive (JSON Lines, gzipped or not)."""
    with open_archive(archive) as handle:
        return [line for line in handle if line.strip()]


def ingest_lines(side: Side, lines: Sequence[bytes]) -> None:
    """Ingest these archive lines the product's way (a .jsonl file through `ingest_paths`)."""
    if not lines:
        return
    path = side.work / "chunk.jsonl"
    path.write_bytes(b"".join(line if line.endswith(b"\n") else line + b"\n" for line in lines))
    report = side.library.ingest_paths([path])
    if report.problems:
        print(f"  {side.backend} ingest: {len(report.problems)} problems: {report.problems[0]}")
    side.lines_done += len(lines)


def grow_to(side: Side, lines: Sequence[bytes], passages: int) -> int:
    """Ingest further lines until the corpus holds at least `passages` passages (chunks shrink
    as the target nears); returns the line count reached."""
    while side.lines_done < len(lines):
        have = side.library.corpus_stats().passages
        if have >= passages:
            break
        chunk = max(10, (passages - have) // 3)  # ~2.4 passages an article: never far past
        ingest_lines(side, lines[side.lines_done : side.lines_done + chunk])
    return side.lines_done


def timed_build(library: Library) -> dict[str, float | int]:
    """`build()` with its seconds, passages added and the seconds to its first vector batch."""
    first_batch: list[float] = []

    def progress(done: int, total: int) -> None:
        if not first_batch:
            first_batch.append(time.perf_counter())

    started = time.perf_counter()
    report = library.build(progress=progress)
    seconds = time.perf_counter() - started
    lexical = (first_batch[0] - started) if first_batch else seconds
    return {
        "build_s": seconds,
        "build_added": report.added,
        "build_embedded": report.embedded,
        "build_passages_per_s": report.added / seconds if seconds > 0 else 0.0,
        "build_lexical_s": lexical,
    }


def index_latency(library: Library, asked: Sequence[str], vectors: np.ndarray) -> dict[str, float]:
    """p50 ms of the served index alone: dense top-CANDIDATES by vector, lexical by text."""
    version = library.retriever.version
    for question, vector in zip(asked[:5], vectors[:5], strict=True):  # warm-up
        version.dense_search(vector, CANDIDATES)
        version.lexical.search(question, CANDIDATES)
    dense: list[float] = []
    lexical: list[float] = []
    for question, vector in zip(asked, vectors, strict=True):
        started = time.perf_counter()
        version.dense_search(vector, CANDIDATES)
        dense.append(1000 * (time.perf_counter() - started))
        started = time.perf_counter()
        version.lexical.search(question, CANDIDATES)
        lexical.append(1000 * (time.perf_counter() - started))
    return {
        "index_dense_p50_ms": statistics.median(dense),
        "index_dense_p95_ms": sorted(dense)[int(0.95 * (len(dense) - 1))],
        "index_lexical_p50_ms": statistics.median(lexical),
        "index_lexical_p95_ms": sorted(lexical)[int(0.95 * (len(lexical) - 1))],
    }


def dense_plan(engine: Engine, vector: np.ndarray) -> str:
    """The plan of the product's dense query (is the HNSW index used?)."""
    with engine.begin() as connection:
        connection.execute(
            text("SELECT set_config('hnsw.ef_search', :ef, true)"),
            {"ef": str(max(EF_SEARCH, CANDIDATES))},
        )
        rows = connection.execute(
            text(
                "EXPLAIN SELECT passage_id, 1 - (embedding <=> :q) FROM passage_vectors "
                "ORDER BY embedding <=> :q LIMIT :k"
            ),
            {"q": np.asarray(vector, dtype=np.float32), "k": CANDIDATES},
        )
        return plan_text(str(line) for (line,) in rows)


def plan_text(lines: Iterable[str]) -> str:
    """An EXPLAIN on one line, without the query vector's literal."""
    return " / ".join(line.strip() for line in lines if not line.strip().startswith("Order By"))


@contextlib.contextmanager
def notices(connection: Any) -> Iterator[list[str]]:
    """The server's NOTICE messages on this SQLAlchemy connection while the block runs."""
    found: list[str] = []
    raw = connection.connection.dbapi_connection

    def handler(diagnostic: Any) -> None:
        found.append(str(diagnostic.message_primary))

    raw.add_notice_handler(handler)
    try:
        yield found
    finally:
        raw.remove_notice_handler(handler)


def reindex(engine: Engine, index: str, memory: str | None) -> tuple[float, list[str]]:
    """Seconds of `REINDEX INDEX index` (with maintenance_work_mem SET to `memory` if given),
    and the notices it raised (pgvector says when the graph outgrows maintenance_work_mem)."""
    with engine.connect() as connection, notices(connection) as found:
        if memory is not None:
            connection.exec_driver_sql(f"SET maintenance_work_mem = '{memory}'")
        started = time.perf_counter()
        connection.exec_driver_sql(f"REINDEX INDEX {index}")
        connection.commit()
        seconds = time.perf_counter() - started
        connection.exec_driver_sql("RESET maintenance_work_mem")
        connection.commit()
    return seconds, found


def pg_sizes(engine: Engine) -> dict[str, float]:
    """MB of the index tables and of the whole database."""
    mb = float(2**20)
    with engine.connect() as connection:

        def size(expression: str) -> float:
            return float(connection.exec_driver_sql(f"SELECT {expression}").scalar() or 0) / mb

        return {
            "vectors_mb": size("pg_total_relation_size('passage_vectors')"),
            "hnsw_mb": size("pg_relation_size('passage_vectors_hnsw')"),
            "lexical_mb": size(
                "pg_total_relation_size('lexical_postings') + "
                "pg_total_relation_size('lexical_terms')"
            ),
            "database_mb": size("pg_database_size(current_database())"),
        }


def autoanalyzed(engine: Engine) -> dict[str, bool]:
    """Whether autovacuum has analyzed each index table yet (the planner's statistics)."""
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT relname, coalesce(last_autoanalyze, last_analyze) IS NOT NULL "
            "FROM pg_stat_user_tables WHERE relname IN "
            "('passage_vectors', 'lexical_postings', 'lexical_terms')"
        ).all()
    return {str(name): bool(done) for name, done in rows}


def measure_side(
    side: Side,
    label: str,
    asked: list[str],
    warmup: list[str],
    vectors: np.ndarray,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """One row: build the passages added since the last size, then questions, add/delete and
    (pgvector) the HNSW rebuild."""
    library = side.library
    row: dict[str, Any] = {"size": label, "backend": side.backend, "lines": side.lines_done}
    row.update(timed_build(library))
    stats = library.corpus_stats()
    version = library.retriever.version
    row.update(articles=stats.articles, passages=stats.passages, served_dense=version.size)
    if side.backend == PGVECTOR:
        engine: Engine = library.index.engine  # type: ignore[attr-defined]
        row["analyzed_before_questions"] = autoanalyzed(engine)
        row["dense_plan"] = dense_plan(engine, vectors[0])
    row.update(latency(library, asked, warmup, args.k))
    row.update(index_latency(library, asked, vectors))
    row.update(add_and_delete(library, args.timeout))
    if side.backend == PGVECTOR:
        row["hnsw_reindex_s"], row["hnsw_reindex_notices"] = reindex(
            engine, "passage_vectors_hnsw", None
        )
        row["hnsw_reindex_1gb_s"], row["hnsw_reindex_1gb_notices"] = reindex(
            engine, "passage_vectors_hnsw", "1GB"
        )
        row.update(pg_sizes(engine))
    else:
        row["index_mb"] = folder_mb(side.work / "index")
    return row


def run_sizes(
    real: Encoder, url: str, lines: list[bytes], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """Part 1: grow both backends' corpora through --sizes, one row per size and backend."""
    encoder = StandinPassages(real)
    asked_all = questions(args.qa, args.questions + 5)
    asked, warmup = asked_all[: args.questions], asked_all[args.questions :]
    vectors = real.encode_queries(asked)
    rows: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sanad-pgvector-")))
        scratch = stack.enter_context(scratch_database(url))
        sides: list[Side] = []
        for backend in BACKENDS:
            work = tmp / backend
            work.mkdir()
            database = scratch if backend == PGVECTOR else f"sqlite:///{work / 'corpus.db'}"
            settings = LibrarySettings(
                database_url=database, index_dir=work / "index", index_backend=backend
            )
            library = Library.open(settings, encoder=encoder)
            stack.callback(library.close)
            sides.append(Side(backend, library, work))
        first, *others = sides
        for size in args.sizes:
            started = time.perf_counter()
            reached = grow_to(first, lines, size)
            for side in others:  # exactly the same articles
                ingest_lines(side, lines[side.lines_done : reached])
            for side in sides:
                row = measure_side(side, str(size), asked, warmup, vectors, args)
                rows.append(row)
                print(
                    f"size {size} {side.backend}: {row['articles']} articles, {row['passages']} "
                    f"passages, build {row['build_s']:.1f} s, hybrid p50 "
                    f"{row['hybrid_p50_ms']:.1f} ms",
                    flush=True,
                )
            print(f"size {size}: {time.perf_counter() - started:.0f} s", flush=True)
    return rows


# --- part 2: HNSW recall on real vectors ---------------------------------------------------
def real_texts(lines: Sequence[bytes], count: int) -> dict[str, str]:
    """Up to `count` distinct texts ("title" or "first sentence", in order): each article's
    title, then its body's first sentence."""
    texts: dict[str, str] = {}
    for line in lines:
        record = json.loads(line)
        title = clean_text(str(record.get("title") or ""))
        body = clean_text(str(record.get("text") or record.get("body") or ""))
        spans = content_sentences(body) if body else []
        first = body[spans[0][0] : spans[0][1]].strip() if spans else ""
        for candidate, kind in ((title, "title"), (first, "first sentence")):
            if candidate and candidate not in texts:
                texts[candidate] = kind
                if len(texts) >= count:
                    return texts
    return texts


def encode_sorted(real: Encoder, texts: Sequence[str]) -> np.ndarray:
    """Passage vectors of `texts` (in their order), encoded in length-sorted batches."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), real.dim), dtype=np.float32)
    for start in range(0, len(order), ENCODE_BATCH):
        rows = order[start : start + ENCODE_BATCH]
        out[rows] = real.encode_passages([texts[i] for i in rows], batch_size=ENCODE_BATCH)
    return out


def real_vectors(
    real: Encoder, lines: Sequence[bytes], args: argparse.Namespace
) -> tuple[np.ndarray, dict[str, Any]]:
    """The real-model vector set and how it was made; cached under --cache by model, texts
    asked and budget.

    Encoded ENCODE_CHUNK texts at a time in archive order (each chunk length-sorted): the rate of
    the chunks so far decides whether the next one still fits in --encode-budget seconds, so a
    set cut short is the archive's first texts, not its shortest (a random sample's batches,
    padded to their longest text, would make the rate look several times lower than it is)."""
    kinds = real_texts(lines, args.real_vectors)
    texts = list(kinds)
    key = "\0".join([real.fingerprint, str(args.encode_budget), *texts])
    cache = args.cache / f"real-vectors-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"
    if cache.exists():
        with np.load(cache) as stored:
            made: dict[str, Any] = json.loads(str(stored["info"]))
            vectors = stored["vectors"]
        print(f"real vectors: {len(vectors)} from {cache}", flush=True)
        return vectors, made | {"cached": str(cache)}
    info: dict[str, Any] = {"asked": args.real_vectors, "available": len(texts)}
    real.encode_passages(texts[:ENCODE_BATCH], batch_size=ENCODE_BATCH)  # warm-up
    parts: list[np.ndarray] = []
    done = 0
    started = time.perf_counter()
    while done < len(texts):
        elapsed = time.perf_counter() - started
        chunk = texts[done : done + ENCODE_CHUNK]
        if done and elapsed + len(chunk) * elapsed / done > args.encode_budget:
            print(f"  --encode-budget {args.encode_budget:.0f} s reached: {done} texts")
            info["cut_to_budget"] = done
            break
        parts.append(encode_sorted(real, chunk))
        done += len(chunk)
        elapsed = time.perf_counter() - started
        print(
            f"  encoded {done}/{len(texts)} real texts in {elapsed:.0f} s ({done / elapsed:.1f}/s,"
            f" all: ~{len(texts) * elapsed / done:.0f} s)",
            flush=True,
        )
    vectors = np.concatenate(parts)
    texts = texts[:done]
    info.update(encode_s=time.perf_counter() - started, count=len(vectors))
    info["encode_rate_per_s"] = len(vectors) / info["encode_s"]
    info["titles"] = sum(1 for t in texts if kinds[t] == "title")
    info["first_sentences"] = len(texts) - info["titles"]
    info["mean_chars"] = statistics.fmean(len(t) for t in texts)
    args.cache.mkdir(parents=True, exist_ok=True)
    np.savez(cache, vectors=vectors, info=np.array(json.dumps(info)))
    return vectors, info | {"cached": str(cache)}


def query_vectors(real: Encoder, asked: Sequence[str], cache_dir: Path) -> np.ndarray:
    """The questions' vectors (`encode_queries`), cached like the passage set."""
    digest = hashlib.sha256("\0".join([real.fingerprint, *asked]).encode()).hexdigest()[:16]
    cache = cache_dir / f"query-vectors-{len(asked)}-{digest}.npy"
    if cache.exists():
        return np.load(cache)
    vectors = real.encode_queries(list(asked))
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(cache, vectors)
    return vectors


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int) -> list[set[int]]:
    """The exact top-k row numbers of each query by cosine (rows are L2-normalized)."""
    scores = queries @ vectors.T
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return [set(row.tolist()) for row in top]


def hnsw_search(
    engine: Engine, queries: np.ndarray, ef: int, k: int
) -> tuple[list[list[int]], list[float]]:
    """HNSW top-k ids per query at hnsw.ef_search `ef`, and each query's ms."""
    found: list[list[int]] = []
    times: list[float] = []
    with engine.connect() as connection:
        for query in queries:
            started = time.perf_counter()
            with connection.begin():
                connection.execute(
                    text("SELECT set_config('hnsw.ef_search', :ef, true)"), {"ef": str(ef)}
                )
                rows = connection.execute(
                    text("SELECT id FROM real_vectors ORDER BY embedding <=> :q LIMIT :k"),
                    {"q": np.asarray(query, dtype=np.float32), "k": k},
                )
                found.append([int(i) for (i,) in rows])
            times.append(1000 * (time.perf_counter() - started))
    return found, times


def recall_rows(
    engine: Engine, vectors: np.ndarray, queries: np.ndarray, graph: str
) -> list[dict[str, Any]]:
    """recall@10 (and @50) and p50 ms per ef_search on the current graph."""
    exact10 = exact_top(vectors, queries, RECALL_K)
    exact50 = exact_top(vectors, queries, CANDIDATES)
    tenth = np.sort(queries @ vectors.T, axis=1)[:, -RECALL_K]  # exact 10th cosine per query
    hnsw_search(engine, queries[:10], EF_VALUES[0], RECALL_K)  # warm-up
    rows = []
    for ef in EF_VALUES:
        found, times = hnsw_search(engine, queries, ef, RECALL_K)
        short = sum(1 for f in found if len(f) < RECALL_K)
        recall = [len(set(f) & e) / RECALL_K for f, e in zip(found, exact10, strict=True)]
        found50, _ = hnsw_search(engine, queries, max(ef, CANDIDATES), CANDIDATES)
        recall50 = [len(set(f) & e) / CANDIDATES for f, e in zip(found50, exact50, strict=True)]
        # how much worse HNSW's 10th hit is than the exact 10th (0 when only ties were swapped)
        gap = [
            float(t - vectors[f[-1]] @ q) if f else float(t)
            for f, t, q in zip(found, tenth, queries, strict=True)
        ]
        rows.append(
            {
                "graph": graph,
                "ef_search": ef,
                "recall@10": statistics.fmean(recall),
                "recall@10_min": min(recall),
                "queries_below_0.9": sum(1 for r in recall if r < 0.9),
                "short_results": short,
                "tenth_cos_gap": statistics.fmean(gap),
                f"recall@{CANDIDATES}": statistics.fmean(recall50),
                f"recall@{CANDIDATES}_ef": max(ef, CANDIDATES),
                "p50_ms": statistics.median(times),
                "p95_ms": sorted(times)[int(0.95 * (len(times) - 1))],
            }
        )
        print(
            f"  {graph} ef_search {ef}: recall@10 {rows[-1]['recall@10']:.4f}, "
            f"p50 {rows[-1]['p50_ms']:.2f} ms",
            flush=True,
        )
    return rows


def product_hnsw(url: str) -> str:
    """The product's HNSW index definition: the migrations run on this (scratch) database,
    then `pg_get_indexdef` of passage_vectors_hnsw (operator class, m, ef_construction)."""
    engine = create_db_engine(url)
    try:
        init_db(engine)
        with engine.connect() as connection:
            return str(
                connection.exec_driver_sql(
                    "SELECT pg_get_indexdef('passage_vectors_hnsw'::regclass)"
                ).scalar()
            )
    finally:
        engine.dispose()


def run_recall(
    real: Encoder, url: str, lines: list[bytes], args: argparse.Namespace
) -> dict[str, Any]:
    """Part 2: HNSW against exact search on real model vectors."""
    vectors, info = real_vectors(real, lines, args)
    asked = questions(args.qa, args.recall_questions)
    queries = query_vectors(real, asked, args.cache)
    info["questions"] = len(asked)
    ranked = -np.sort(-(queries @ vectors.T), axis=1)
    info["exact_1st_cos_median"] = float(np.median(ranked[:, 0]))
    info["exact_10th_cos_median"] = float(np.median(ranked[:, RECALL_K - 1]))
    gaps = ranked[:, RECALL_K - 1] - ranked[:, RECALL_K]
    info["exact_10th_11th_gap_median"] = float(np.median(gaps))
    with scratch_database(url) as scratch:
        info["hnsw_definition"] = product_hnsw(scratch)
        engine = index_engine(scratch)
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql(
                    "CREATE TABLE real_vectors (id integer PRIMARY KEY, "
                    "embedding vector(384) NOT NULL)"
                )
                connection.exec_driver_sql(
                    info["hnsw_definition"]
                    .replace("passage_vectors_hnsw", "real_vectors_hnsw")
                    .replace("public.passage_vectors", "real_vectors")
                )
            started = time.perf_counter()
            for start in range(0, len(vectors), INSERT_BATCH):
                with engine.begin() as connection:
                    connection.execute(
                        text("INSERT INTO real_vectors (id, embedding) VALUES (:id, :v)"),
                        [
                            {"id": start + i, "v": v}
                            for i, v in enumerate(vectors[start : start + INSERT_BATCH])
                        ],
                    )
            info["insert_s"] = time.perf_counter() - started
            info["insert_per_s"] = len(vectors) / info["insert_s"]
            with engine.connect() as connection:
                info["plan"] = plan_text(
                    str(line)
                    for (line,) in connection.execute(
                        text(
                            "EXPLAIN SELECT id FROM real_vectors ORDER BY embedding <=> :q LIMIT 10"
                        ),
                        {"q": queries[0]},
                    )
                )
            print(
                f"recall: {len(vectors)} real vectors inserted in {info['insert_s']:.1f} s; "
                f"{len(queries)} questions",
                flush=True,
            )
            rows = recall_rows(engine, vectors, queries, "insert-built")
            info["reindex_s"], info["reindex_notices"] = reindex(engine, "real_vectors_hnsw", None)
            info["reindex_1gb_s"], info["reindex_1gb_notices"] = reindex(
                engine, "real_vectors_hnsw", "1GB"
            )
            rows += recall_rows(engine, vectors, queries, "reindexed")
        finally:
            engine.dispose()
    return {"info": info, "rows": rows}


# --- output --------------------------------------------------------------------------------
def cell(value: Any, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def markdown(head: Sequence[str], lines: Sequence[Sequence[str]]) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(line) + " |" for line in lines]
    return "\n".join(out)


def latency_table(rows: Sequence[dict[str, Any]]) -> str:
    head = ["size", "backend", "articles", "passages"]
    head += [f"{m} p50 / p95 ms" for m in MODES]
    head += ["index dense p50 / p95 ms", "index lexical p50 / p95 ms"]
    lines = []
    for r in rows:
        line = [r["size"], r["backend"], str(r["articles"]), str(r["passages"])]
        line += [f"{r[f'{m}_p50_ms']:.1f} / {r[f'{m}_p95_ms']:.1f}" for m in MODES]
        line += [
            f"{r['index_dense_p50_ms']:.2f} / {r['index_dense_p95_ms']:.2f}",
            f"{r['index_lexical_p50_ms']:.2f} / {r['index_lexical_p95_ms']:.2f}",
        ]
        lines.append(line)
    return markdown(head, lines)


def write_table(rows: Sequence[dict[str, Any]]) -> str:
    head = [
        "size",
        "backend",
        "added",
        "build s (passages/s)",
        "lexical s",
        "add→answer s (lexical)",
        "delete s",
        "HNSW build s: 64 MB / 1 GB",
        "storage MB",
    ]
    lines = []
    for r in rows:
        if r["backend"] == PGVECTOR:
            hnsw = f"{r['hnsw_reindex_s']:.2f} / {r['hnsw_reindex_1gb_s']:.2f}"
            storage = (
                f"vectors {r['vectors_mb']:.1f} (HNSW {r['hnsw_mb']:.1f}), lexical "
                f"{r['lexical_mb']:.1f}, db {r['database_mb']:.1f}"
            )
        else:
            hnsw, storage = "—", f"index dir {r['index_mb']:.1f}"
        lines.append(
            [
                r["size"],
                r["backend"],
                str(r["build_added"]),
                f"{r['build_s']:.2f} ({r['build_passages_per_s']:.0f})",
                f"{r['build_lexical_s']:.2f}",
                f"{cell(r['add_answerable_s'], 2)} ({cell(r['add_lexical_s'], 2)})",
                cell(r["delete_s"], 2),
                hnsw,
                storage,
            ]
        )
    return markdown(head, lines)


def recall_table(recall: dict[str, Any]) -> str:
    head = ["graph", "ef_search", "recall@10", "min", "queries < 0.9", "10th cos gap"]
    head += [f"recall@{CANDIDATES}", "p50 ms", "p95 ms"]
    lines = [
        [
            r["graph"],
            f"{r['ef_search']}" + (" (product)" if r["ef_search"] == EF_SEARCH else ""),
            f"{r['recall@10']:.4f}",
            f"{r['recall@10_min']:.1f}",
            str(r["queries_below_0.9"]),
            f"{r['tenth_cos_gap']:.5f}",
            f"{r[f'recall@{CANDIDATES}']:.4f} (ef {r[f'recall@{CANDIDATES}_ef']})",
            f"{r['p50_ms']:.2f}",
            f"{r['p95_ms']:.2f}",
        ]
        for r in recall["rows"]
    ]
    return markdown(head, lines)


def add_vector_set_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the real-vector set, its questions and the server (shared with
    benchmarks/hnsw_graphs.py, which reads the same cache)."""
    parser.add_argument("--real-vectors", type=int, default=36_000)
    parser.add_argument("--recall-questions", type=int, default=702, help="ARCD-test has 702")
    parser.add_argument("--encode-budget", type=float, default=600.0, help="seconds")
    parser.add_argument(
        "--archive", type=Path, default=ROOT.parent / "shared/data/news/saudinewsnet_full.jsonl.gz"
    )
    parser.add_argument("--qa", type=Path, default=ROOT.parent / "shared/data/arcd/arcd-test.json")
    parser.add_argument("--pgdata", type=Path, default=Path("/tmp/sanad-pgvector-bench/pgdata"))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/sanad-pgvector-bench"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 30_000, 60_000])
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0, help="add/delete wait, s")
    add_vector_set_arguments(parser)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/pgvector.json")
    parser.add_argument("--skip-sizes", action="store_true", help="only part 2 (recall)")
    parser.add_argument("--skip-recall", action="store_true", help="only part 1 (sizes)")
    args = parser.parse_args()
    started = time.perf_counter()
    settings = LibrarySettings.load()
    real = load_encoder(settings.model, settings.cache_dir)
    _server, url = start_server(args.pgdata)
    server = server_settings(url)
    print("server: " + ", ".join(f"{k} {v}" for k, v in server.items()), flush=True)
    lines = read_lines(args.archive)
    rows = [] if args.skip_sizes else run_sizes(real, url, lines, args)
    recall = None if args.skip_recall else run_recall(real, url, lines, args)
    print()
    if rows:
        print("Question latency (k=3, in process; stand-in passage vectors, real question vectors)")
        print()
        print(latency_table(rows))
        print()
        print("Writes, HNSW build, storage (each size's build indexes the passages added since the")
        print("previous size)")
        print()
        print(write_table(rows))
        print()
        for r in rows:
            if r["backend"] == PGVECTOR:
                print(f"size {r['size']} pgvector dense plan: {r['dense_plan']}")
                print(f"  autoanalyzed before questions: {r['analyzed_before_questions']}")
                for key in ("hnsw_reindex_notices", "hnsw_reindex_1gb_notices"):
                    if r[key]:
                        print(f"  {key}: {'; '.join(r[key])}")
        print()
    if recall is not None:
        print_recall(recall)
    total = time.perf_counter() - started
    print(f"total {total:.0f} s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "server": server,
        "sizes": rows,
        "recall": recall,
        "ef_search_product": EF_SEARCH,
        "questions": args.questions,
        "seconds": total,
    }
    args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    print(f"wrote {args.json}")


def print_recall(recall: dict[str, Any]) -> None:
    info = recall["info"]
    print(
        f"HNSW recall on {info['count']} real model vectors ({info['titles']} titles, "
        f"{info['first_sentences']} first sentences, {info['mean_chars']:.0f} chars on average; "
        f"encoded in {info['encode_s']:.0f} s, {info['encode_rate_per_s']:.1f}/s"
        + (f"; cut from {info['available']} by --encode-budget" if "cut_to_budget" in info else "")
        + f"), {info['questions']} ARCD-test questions; insert {info['insert_per_s']:.0f} "
        f"vectors/s into the indexed table; REINDEX {info['reindex_s']:.2f} s at 64 MB, "
        f"{info['reindex_1gb_s']:.2f} s at 1 GB"
    )
    print(
        f"exact neighbours (medians over the questions): 1st cosine "
        f"{info['exact_1st_cos_median']:.4f}, 10th {info['exact_10th_cos_median']:.4f}, "
        f"10th - 11th {info['exact_10th_11th_gap_median']:.5f}"
    )
    print()
    print(recall_table(recall))
    print()
    print(f"HNSW index (the product's definition): {info['hnsw_definition']}")
    print(f"plan: {info['plan']}")
    for key in ("reindex_notices", "reindex_1gb_notices"):
        if info[key]:
            print(f"{key}: {'; '.join(info[key])}")


if __name__ == "__main__":
    main()
