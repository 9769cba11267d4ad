"""Lexical search inside PostgreSQL against the embedded engines, on ARCD.

    .venv/bin/python benchmarks/pg_lexical.py [--sets FILE ...] [--pgdata DIR]
        [--json benchmarks/results/pg_lexical.json]

The question (issue): search the project's Arabic analyzer output (`retrieval.arabic`) inside
PostgreSQL either as a tsvector of the `simple` configuration or as BM25 computed in SQL from
term statistics; measure both against bm25s and keep the better. The product does the second
(`retrieval.backends.postgres.PgLexical`).

For each SQuAD-format set (default ARCD-test and ARCD-train) each paragraph is an article
(`retrieval.evaluate.prepare_library`), stored twice: SQLite + the embedded index
(faiss-tantivy) and a scratch PostgreSQL database + the pgvector backend (PostgreSQL 16 +
pgvector from the `pgserver` wheel, at its defaults). Passage vectors are `benchmarks.scale`'s
stand-in (lexical search never reads them). Every ranker below searches the same passages, the
product's: each stored passage's `embedding_text` (title + passage), as both backends index them.
Rows:
  pg BM25 (SQL)       the product's BM25 in SQL: `PgLexical.search` (K1 0.6, B 0.9, Lucene idf)
  tsvector ts_rank    a table (passage id, `to_tsvector('simple', analyzer terms joined by
                      spaces)`) under a GIN index, queried with `tsv @@ q` where q is the OR of
                      the question's analyzer terms (`to_tsquery('simple', 't1' | 't2' ...)`),
                      ordered by `ts_rank(tsv, q)`; ts_rank_cd: the same ordered by
                      `ts_rank_cd(tsv, q)`; "norm 1": both with normalization 1 (rank divided
                      by 1 + log(document length); the default 0 ignores length)
  bm25s               the former backend, `retrieval.backends.lexical_bm25.Bm25Index` (same K1,
                      B, idf), in memory over the same analyzer terms
  tantivy             the embedded default's lexical index (`version.lexical.search`)
each asked for the top 50 passages (fusion.CANDIDATES, what the retriever asks for), collapsed to
articles in order (first passage of an article counts); gold = the question's paragraph.
  recall@1/5/10, MRR@10   over every question of the set (a question with no hit is a miss)
  p50 / p95 ms        per question, the ranker alone from question text to ranked passages
                      (analysis included; for PostgreSQL one connection from the pool, Unix
                      socket), after 5 warm-up questions
  no hit              questions with no passage returned
  index s             building that ranker's index from the stored passages (the two product
                      rows: the lexical phase is inside `build()`, not timed apart: "—")
And, the product's own evaluation path for both backends: `Library.search(mode="lexical")` by
`retrieval.evaluate.run_questions` / `metrics` (k=20; hits are articles, reprints folded; its
ms include fetching passages and choosing answer sentences): rows "… library".

tsvector fidelity: how many distinct analyzer terms `to_tsvector('simple', term)` does not
keep as exactly that one lexeme (0 = the tsvector holds the analyzer's terms unchanged).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

# Run as a script, this file's folder leads sys.path, where benchmarks/pgvector.py would shadow
# the pgvector package the product imports. Appended first so that remove() always finds it: it
# takes out the leading entry when there is one, else the one just appended.
sys.path.append(str(Path(__file__).resolve().parent))
sys.path.remove(str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from benchmarks.scale import StandinPassages
from corpus.store import passage_ids, passage_rows, scratch_database
from retrieval.arabic import analyze_document, analyze_query
from retrieval.backends.base import Ranked
from retrieval.backends.lexical_bm25 import Bm25Index
from retrieval.encoder import Encoder, load_encoder
from retrieval.evaluate import (
    MRR_AT,
    RECALL_AT,
    QASet,
    load_squad,
    metrics,
    prepare_library,
    run_questions,
)
from retrieval.fusion import CANDIDATES
from retrieval.index import IndexInput, embedding_text
from retrieval.library import Library
from retrieval.settings import LibrarySettings

ROOT = Path(__file__).resolve().parents[1]
ARCD = ROOT.parent / "shared/data/arcd"
WARMUP = 5
Ranker = Callable[[str], Ranked]


# --- the corpus as indexed --------------------------------------------------------------------
def indexed_passages(library: Library) -> tuple[dict[int, str], dict[int, int]]:
    """Every stored passage as the index sees it (passage id -> `embedding_text`), and its
    article (passage id -> article id)."""
    with library.session_factory() as session:
        rows = passage_rows(session, sorted(passage_ids(session)))
    texts = {r.passage_id: embedding_text(IndexInput(r.passage_id, r.title, r.text)) for r in rows}
    return texts, {r.passage_id: r.article_id for r in rows}


def gold_rank(
    ranked: Ranked,
    article_of: Mapping[int, int],
    paragraph_of: Mapping[int, int],
    gold: int,
) -> int | None:
    """1-based rank of the gold paragraph among the ranked passages' articles (an article
    counts once, at its first passage)."""
    seen: list[int] = []
    for pid, _ in ranked:
        article = article_of.get(pid)
        if article is None or article in seen:
            continue
        seen.append(article)
        if paragraph_of.get(article) == gold:
            return len(seen)
    return None


def score(
    name: str,
    ranker: Ranker,
    qa: QASet,
    article_of: Mapping[int, int],
    paragraph_of: Mapping[int, int],
    index_s: float | None,
) -> dict[str, Any]:
    """Ask every question of `qa`; recall@k, MRR@10, latency."""
    for question in qa.questions[:WARMUP]:
        ranker(question.text)
    ranks: list[int | None] = []
    times: list[float] = []
    empty = 0
    for question in qa.questions:
        started = time.perf_counter()
        ranked = ranker(question.text)
        times.append(1000 * (time.perf_counter() - started))
        empty += not ranked
        ranks.append(gold_rank(ranked, article_of, paragraph_of, question.paragraph))
    n = len(ranks)
    row: dict[str, Any] = {"method": name, "questions": n, "passages": len(article_of)}
    for k in RECALL_AT:
        row[f"recall@{k}"] = sum(1 for r in ranks if r is not None and r <= k) / n
    row[f"mrr@{MRR_AT}"] = sum(1.0 / r for r in ranks if r is not None and r <= MRR_AT) / n
    row["p50_ms"] = statistics.median(times)
    row["p95_ms"] = sorted(times)[int(0.95 * (n - 1))]
    row["no_hit"] = empty
    row["index_s"] = index_s
    return row


# --- tsvector ----------------------------------------------------------------------------------
def tsquery_text(terms: Sequence[str]) -> str:
    """The OR of these terms in to_tsquery syntax, each quoted (quotes and backslashes escaped)."""
    quoted = ("'" + t.replace("\\", "\\\\").replace("'", "''") + "'" for t in dict.fromkeys(terms))
    return " | ".join(quoted)


def build_tsvector(engine: Engine, texts: Mapping[int, str]) -> tuple[float, int, int]:
    """Table ts_passages (passage id, tsvector of the analyzer terms) with a GIN index; its
    seconds, and (fidelity) distinct terms and how many of them to_tsvector changes."""
    started = time.perf_counter()
    rows = [{"pid": pid, "terms": " ".join(analyze_document(t))} for pid, t in texts.items()]
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE ts_passages (passage_id integer PRIMARY KEY, tsv tsvector NOT NULL)"
        )
        connection.execute(
            text("INSERT INTO ts_passages VALUES (:pid, to_tsvector('simple', :terms))"), rows
        )
        connection.exec_driver_sql("CREATE INDEX ts_passages_gin ON ts_passages USING gin (tsv)")
        connection.exec_driver_sql("ANALYZE ts_passages")
    seconds = time.perf_counter() - started
    terms = sorted({term for row in rows for term in str(row["terms"]).split()})
    with engine.connect() as connection:
        changed = int(
            connection.execute(
                text(
                    "SELECT count(*) FROM unnest(CAST(:terms AS text[])) AS t(term) "
                    "WHERE tsvector_to_array(to_tsvector('simple', term)) <> ARRAY[term]"
                ),
                {"terms": terms},
            ).scalar()
            or 0
        )
    return seconds, len(terms), changed


def tsvector_ranker(engine: Engine, function: str, normalization: int) -> Ranker:
    """Top CANDIDATES passages by `function` (ts_rank or ts_rank_cd) of the OR query."""
    sql = text(
        f"SELECT passage_id, {function}(tsv, q, {normalization}) AS rank "
        "FROM ts_passages, to_tsquery('simple', :q) AS q WHERE tsv @@ q "
        "ORDER BY rank DESC, passage_id LIMIT :k"
    )

    def search(question: str) -> Ranked:
        terms = analyze_query(question)
        if not terms:
            return []
        with engine.connect() as connection:
            rows = connection.execute(sql, {"q": tsquery_text(terms), "k": CANDIDATES})
            return [(int(pid), float(rank)) for pid, rank in rows]

    return search


# --- one set -----------------------------------------------------------------------------------
def library_row(
    name: str, library: Library, paragraph_of: dict[int, int], qa: QASet
) -> dict[str, Any]:
    """The product's evaluation path: `Library.search(mode="lexical")` per question."""
    outcomes = run_questions(library, paragraph_of, qa, "lexical", 20)
    result = metrics(outcomes, library.retriever.version.size)
    ms = sorted(1000 * o.seconds for o in outcomes)
    return {
        "method": f"{name} library",
        "questions": result["questions"],
        "passages": result["passages"],
        **{f"recall@{k}": result[f"recall@{k}"] for k in RECALL_AT},
        f"mrr@{MRR_AT}": result[f"mrr@{MRR_AT}"],
        "p50_ms": statistics.median(ms),
        "p95_ms": ms[int(0.95 * (len(ms) - 1))],
        "no_hit": sum(1 for o in outcomes if o.top_paragraph is None),
        "index_s": None,
    }


def run_set(path: Path, encoder: Encoder, url: str) -> dict[str, Any]:
    """Every ranker on one SQuAD-format set."""
    qa = load_squad(path)
    rows: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sanad-pglex-")))
        scratch = stack.enter_context(scratch_database(url))
        pg, pg_paragraphs = prepare_library(qa, encoder, tmp / "pg", scratch)
        stack.callback(pg.close)
        files, files_paragraphs = prepare_library(qa, encoder, tmp / "files")
        stack.callback(files.close)
        pg_texts, pg_articles = indexed_passages(pg)
        files_texts, files_articles = indexed_passages(files)
        if sorted(pg_texts.values()) != sorted(files_texts.values()):
            raise SystemExit(f"{path.name}: the two stores hold different passages")
        engine: Engine = pg.index.engine  # type: ignore[attr-defined]
        ts_s, terms, changed = build_tsvector(engine, pg_texts)
        started = time.perf_counter()
        bm25 = Bm25Index.build(list(pg_texts), list(pg_texts.values()))
        bm25_s = time.perf_counter() - started

        def pg_bm25(question: str) -> Ranked:
            return pg.retriever.version.lexical.search(question, CANDIDATES)

        def tantivy(question: str) -> Ranked:
            return files.retriever.version.lexical.search(question, CANDIDATES)

        on_pg = (pg_articles, pg_paragraphs)
        rankers: list[tuple[str, Ranker, tuple[dict[int, int], dict[int, int]], float | None]] = [
            ("pg BM25 (SQL)", pg_bm25, on_pg, None),
            ("tsvector ts_rank", tsvector_ranker(engine, "ts_rank", 0), on_pg, ts_s),
            ("tsvector ts_rank_cd", tsvector_ranker(engine, "ts_rank_cd", 0), on_pg, ts_s),
            ("tsvector ts_rank norm 1", tsvector_ranker(engine, "ts_rank", 1), on_pg, ts_s),
            ("tsvector ts_rank_cd norm 1", tsvector_ranker(engine, "ts_rank_cd", 1), on_pg, ts_s),
            ("bm25s", lambda q: bm25.search(q, CANDIDATES), on_pg, bm25_s),
            ("tantivy", tantivy, (files_articles, files_paragraphs), None),
        ]
        for name, ranker, (articles, paragraphs), index_s in rankers:
            rows.append(score(name, ranker, qa, articles, paragraphs, index_s))
            print(f"  {path.name} {name}: MRR@10 {rows[-1]['mrr@10']:.4f}", flush=True)
        rows.append(library_row("pg BM25 (SQL)", pg, pg_paragraphs, qa))
        rows.append(library_row("tantivy", files, files_paragraphs, qa))
    return {
        "set": path.name,
        "paragraphs": len(qa.paragraphs),
        "questions": len(qa.questions),
        "passages": len(pg_texts),
        "distinct_terms": terms,
        "terms_changed_by_to_tsvector": changed,
        "rows": rows,
    }


# --- output ------------------------------------------------------------------------------------
def table(result: dict[str, Any]) -> str:
    head = ["method", *(f"recall@{k}" for k in RECALL_AT), f"MRR@{MRR_AT}", "p50 ms", "p95 ms"]
    head += ["no hit", "index s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in result["rows"]:
        cells = [r["method"], *(f"{r[f'recall@{k}']:.4f}" for k in RECALL_AT)]
        cells += [f"{r[f'mrr@{MRR_AT}']:.4f}", f"{r['p50_ms']:.2f}", f"{r['p95_ms']:.2f}"]
        cells += [str(r["no_hit"]), "—" if r["index_s"] is None else f"{r['index_s']:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def start_server(pgdata: Path) -> tuple[Any, str]:
    """A local PostgreSQL 16 + pgvector (pgserver), stopped when this process exits."""
    import pgserver

    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    url = make_url(server.get_uri()).set(drivername="postgresql+psycopg")
    return server, url.render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sets", nargs="+", type=Path, default=[ARCD / "arcd-test.json", ARCD / "arcd-train.json"]
    )
    parser.add_argument("--pgdata", type=Path, default=Path("/tmp/sanad-pg-lexical/pgdata"))
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/pg_lexical.json")
    args = parser.parse_args()
    started = time.perf_counter()
    settings = LibrarySettings.load()
    encoder = StandinPassages(load_encoder(settings.model, settings.cache_dir))
    _server, url = start_server(args.pgdata)
    engine = create_engine(url)
    with engine.connect() as connection:
        version = str(connection.exec_driver_sql("SHOW server_version").scalar())
    engine.dispose()
    results = []
    for path in args.sets:
        results.append(run_set(path, encoder, url))
    print()
    for result in results:
        print(
            f"{result['set']}: {result['paragraphs']} paragraphs, {result['passages']} passages, "
            f"{result['questions']} questions; {result['distinct_terms']} distinct analyzer "
            f"terms, {result['terms_changed_by_to_tsvector']} changed by to_tsvector('simple')"
        )
        print()
        print(table(result))
        print()
    total = time.perf_counter() - started
    print(f"PostgreSQL {version}; total {total:.0f} s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    payload = {"server_version": version, "sets": results, "seconds": total}
    args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
