"""HNSW graphs side by side on real model vectors: recall@10 and time per search of several
(m, hnsw.ef_search) settings, measured in one run, interleaved question by question.

    .venv/bin/python -m benchmarks.hnsw_graphs
        [--settings 16:800 16:600 16:400 24:400 24:500 24:600]
        [--real-vectors 36000] [--encode-budget 600] [--recall-questions 702]
        [--archive FILE] [--qa FILE] [--pgdata /tmp/sanad-pgvector-bench/pgdata]
        [--cache /tmp/sanad-pgvector-bench] [--json benchmarks/results/hnsw_graphs.json]

The vectors are `benchmarks/pgvector.py`'s part 2 set (archive titles and first sentences,
encoded as passages by the real model; the same cache, so a run after pgvector.py with the same
--real-vectors and --encode-budget encodes nothing), the questions ARCD-test's (`encode_queries`).
Each graph m (ef_construction 200, as the migrations build passage_vectors_hnsw) is built once,
in bulk, on a table of its own in a scratch database of a local PostgreSQL 16 + pgvector
(pgserver, at its defaults; maintenance_work_mem 1 GB for the builds). Every question then asks
each setting for the 50 candidates the retriever asks for, the settings' order rotating from
question to question; the whole pass runs twice and the second is reported, so that each
graph's pages are as warm as the others'.

Prints (and writes to --json) per setting: recall@10 (|HNSW top-10 ∩ exact top-10| / 10,
averaged; exact = numpy cosine over all vectors), p50 and mean ms of one search of the 50
candidates (BEGIN, SET LOCAL hnsw.ef_search, SELECT ... LIMIT 50, COMMIT, as the product
searches), and the graph's bulk build seconds. Compare ms within one run only: from run to run
this machine's speed varies by up to 1.5x.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from sqlalchemy import text

from benchmarks.pgvector import (
    INSERT_BATCH,
    ROOT,
    add_vector_set_arguments,
    exact_top,
    product_hnsw,
    query_vectors,
    read_lines,
    real_vectors,
    start_server,
)
from benchmarks.scale import questions
from corpus.store import scratch_database
from retrieval.backends.postgres import index_engine
from retrieval.encoder import load_encoder
from retrieval.fusion import CANDIDATES
from retrieval.settings import LibrarySettings

RECALL_K = 10
# (m, ef_search): the graph before migration 0006 and the one after, each around its setting
SETTINGS = ((16, 800), (16, 600), (16, 400), (24, 400), (24, 500), (24, 600))


def setting(value: str) -> tuple[int, int]:
    """ "m:ef_search" -> (m, ef_search)."""
    m, _, ef = value.partition(":")
    return int(m), int(ef)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--settings", nargs="+", type=setting, default=list(SETTINGS))
    add_vector_set_arguments(parser)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/hnsw_graphs.json")
    args = parser.parse_args()
    settings = LibrarySettings.load()
    real = load_encoder(settings.model, settings.cache_dir)
    _server, url = start_server(args.pgdata)
    vectors, _ = real_vectors(real, read_lines(args.archive), args)
    queries = query_vectors(real, questions(args.qa, args.recall_questions), args.cache)
    exact = exact_top(vectors, queries, RECALL_K)
    graphs = sorted({m for m, _ in args.settings})
    with scratch_database(url) as scratch:
        product_hnsw(scratch)  # the migrations: the vector extension
        engine = index_engine(scratch)
        try:
            build_s = {}
            for m in graphs:
                with engine.begin() as connection:
                    connection.exec_driver_sql(
                        f"CREATE TABLE graph_m{m} (id integer PRIMARY KEY, "
                        "embedding vector(384) NOT NULL)"
                    )
                for start in range(0, len(vectors), INSERT_BATCH):
                    with engine.begin() as connection:
                        connection.execute(
                            text(f"INSERT INTO graph_m{m} (id, embedding) VALUES (:id, :v)"),
                            [
                                {"id": start + i, "v": v}
                                for i, v in enumerate(vectors[start : start + INSERT_BATCH])
                            ],
                        )
                with engine.begin() as connection:
                    connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '1GB'")
                    started = time.perf_counter()
                    connection.exec_driver_sql(
                        f"CREATE INDEX graph_m{m}_hnsw ON graph_m{m} USING hnsw "
                        f"(embedding vector_cosine_ops) WITH (m = {m}, ef_construction = 200)"
                    )
                    build_s[m] = time.perf_counter() - started
            times: dict[tuple[int, int], list[float]] = {s: [] for s in args.settings}
            recall: dict[tuple[int, int], list[float]] = {s: [] for s in args.settings}
            count = len(args.settings)
            with engine.connect() as connection:
                for measured in (False, True):
                    for n, query in enumerate(queries):
                        for m, ef in args.settings[n % count :] + args.settings[: n % count]:
                            started = time.perf_counter()
                            with connection.begin():
                                connection.execute(
                                    text("SELECT set_config('hnsw.ef_search', :ef, true)"),
                                    {"ef": str(ef)},
                                )
                                found = [
                                    int(i)
                                    for (i,) in connection.execute(
                                        text(
                                            f"SELECT id FROM graph_m{m} "
                                            "ORDER BY embedding <=> :q LIMIT :k"
                                        ),
                                        {"q": query, "k": CANDIDATES},
                                    )
                                ]
                            if measured:
                                times[(m, ef)].append(1000 * (time.perf_counter() - started))
                                recall[(m, ef)].append(
                                    len(set(found[:RECALL_K]) & exact[n]) / RECALL_K
                                )
        finally:
            engine.dispose()
    rows = [
        {
            "m": m,
            "ef_construction": 200,
            "ef_search": ef,
            "recall@10": statistics.fmean(recall[(m, ef)]),
            "p50_ms": statistics.median(times[(m, ef)]),
            "mean_ms": statistics.fmean(times[(m, ef)]),
            "build_s": build_s[m],
        }
        for m, ef in args.settings
    ]
    print(f"{len(vectors)} real vectors, {len(queries)} questions, k {CANDIDATES}")
    print()
    print("| m | ef_search | recall@10 | p50 ms | mean ms | graph build s (bulk) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['m']} | {r['ef_search']} | {r['recall@10']:.4f} | {r['p50_ms']:.2f} | "
            f"{r['mean_ms']:.2f} | {r['build_s']:.1f} |"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {"vectors": len(vectors), "questions": len(queries), "k": CANDIDATES, "rows": rows},
            indent=2,
        )
    )
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
