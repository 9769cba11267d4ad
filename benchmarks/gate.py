"""Calibrate the answer gate (retrieval/gate.py) and compare it with the old cosine threshold.

    .venv/bin/python -m benchmarks.gate [--arcd ../shared/data/arcd] [--fit]

Labelled questions: benchmarks/gate_questions.py over the bundled corpus (full, short, dialect
and English questions, answerable or not), plus ARCD: each ARCD question over its own paragraphs
(answerable) and over the news corpus (not answerable). Hits are the first 2*TOP_K of each
question; a hit is positive when it cites an article that answers the question. Train split:
even items of each kind + arcd-train; test split: odd items + arcd-test.

Prints, on the test split, precision and recall of "answered" (answered = some hit of the first
page passes the gate; correct = the first hit shown answers) for the old gate (cosine >= 0.84)
and the new one, per kind; and, for English questions, recall@1 of dense, of hybrid as it was
(Arabic BM25 fused in) and of hybrid now (dense only for non-Arabic questions). With --fit,
fits the logistic regression on the train split and prints the coefficients for gate.py.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.gate_questions import ANSWERABLE, UNANSWERABLE, split
from bot.settings import DEFAULT_MIN_RELEVANCE
from corpus.store import passage_views
from retrieval.arabic import strip_marks
from retrieval.encoder import Encoder, load_encoder
from retrieval.evaluate import load_squad, prepare_library
from retrieval.fusion import CANDIDATES, fuse
from retrieval.gate import Evidence
from retrieval.library import Library
from retrieval.settings import LibrarySettings

ROOT = Path(__file__).resolve().parent.parent
TOP_K = 3
OLD_THRESHOLD = 0.84


@dataclass(frozen=True)
class Row:
    """One question and its hits' evidence and labels."""

    kind: str
    answerable: bool
    evidence: list[Evidence]
    labels: list[bool]


def news_rows(library: Library, part: str) -> list[Row]:
    rows = []
    for items, answerable in ((ANSWERABLE, True), (UNANSWERABLE, False)):
        for question, kind, fragments in split(items, part):
            hits = library.search(question, 2 * TOP_K)
            labels = [any(f in h.title for f in fragments) for h in hits]
            rows.append(_row(kind, answerable, hits, labels))
    return rows


def arcd_rows(news: Library, qa_file: Path, encoder: Encoder, workdir: Path) -> list[Row]:
    qa = load_squad(qa_file)
    library, to_paragraph = prepare_library(qa, encoder, workdir)
    rows = []
    for question in qa.questions:
        hits = library.search(question.text, 2 * TOP_K)
        labels = [to_paragraph.get(h.article_id) == question.paragraph for h in hits]
        rows.append(_row("arcd", True, hits, labels))
        off_corpus = news.search(question.text, 2 * TOP_K)
        rows.append(_row("arcd-on-news", False, off_corpus, [False] * len(off_corpus)))
    return rows


def _row(kind: str, answerable: bool, hits: list, labels: list[bool]) -> Row:
    return Row(kind, answerable, [h.evidence for h in hits], labels)


def decide(row: Row, passes) -> tuple[bool, bool]:
    """(answered, correct) for one question under a gate `passes(evidence) -> bool`."""
    shown = [label for e, label in zip(row.evidence[:TOP_K], row.labels, strict=False) if passes(e)]
    return bool(shown), bool(shown) and shown[0]


def report(rows: list[Row], gates: dict) -> None:
    kinds = sorted({r.kind for r in rows})
    print("| questions | gate | answered | correct | precision | recall | false answers |")
    print("|---|---|---|---|---|---|---|")
    for kind in [*kinds, "all"]:
        chosen = [r for r in rows if kind in ("all", r.kind)]
        positives = sum(r.answerable for r in chosen)
        negatives = len(chosen) - positives
        for name, passes in gates.items():
            outcomes = [(r, *decide(r, passes)) for r in chosen]
            answered = sum(a for _, a, _ in outcomes)
            correct = sum(c for r, _, c in outcomes if r.answerable)
            false = sum(a for r, a, _ in outcomes if not r.answerable)
            precision = correct / answered if answered else 0.0
            recall = correct / positives if positives else float("nan")
            fa = f"{false}/{negatives}" if negatives else "-"
            print(
                f"| {kind} ({len(chosen)}) | {name} | {answered} | {correct} | "
                f"{precision:.3f} | {recall:.3f} | {fa} |"
            )


def f1(rows: list[Row], threshold: float) -> float:
    """Question-level F1 of "answered correctly" under the gate at `threshold`."""
    outcomes = [(r, *decide(r, lambda e: e.relevance >= threshold)) for r in rows]
    answered = sum(a for _, a, _ in outcomes)
    correct = sum(c for r, _, c in outcomes if r.answerable)
    positives = sum(r.answerable for r in rows)
    if not answered or not correct:
        return 0.0
    precision, recall = correct / answered, correct / positives
    return 2 * precision * recall / (precision + recall)


def fit(rows: list[Row]) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    x = np.array([e.features() for r in rows for e in r.evidence])
    y = np.array([label for r in rows for label in r.labels])
    model = LogisticRegression(C=10.0, max_iter=1000, class_weight="balanced").fit(x, y)
    return model.coef_[0], float(model.intercept_[0])


def english_recall(library: Library) -> None:
    """recall@1 of English questions: dense, hybrid as it was (Arabic BM25 fused in), now."""
    items = [(q, f) for q, kind, f in ANSWERABLE if kind == "english"]
    version = library.retriever.version
    counts = defaultdict(int)
    for question, fragments in items:
        for mode in ("dense", "hybrid"):
            hits = library.search(question, 1, mode=mode, fold=False)
            counts[mode] += bool(hits) and any(f in hits[0].title for f in fragments)
        vector = library.encoder.encode_queries([version.spelling.respell(strip_marks(question))])
        dense = version.dense.search(vector[0], CANDIDATES)
        fused = fuse(dense, version.lexical.search(question, CANDIDATES))
        with library.session_factory() as session:
            views = passage_views(session, [fused[0][0]] if fused else [])
        first = next(iter(views.values())).citation.title if views else ""
        counts["hybrid, BM25 fused in"] += any(f in first for f in fragments)
    for mode, found in counts.items():
        print(f"English questions ({len(items)}), recall@1 {mode}: {found / len(items):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arcd", type=Path, default=ROOT.parent / "shared/data/arcd")
    parser.add_argument("--fit", action="store_true", help="fit and print new coefficients")
    args = parser.parse_args()
    settings = LibrarySettings.load()
    encoder = load_encoder(settings.model, settings.cache_dir)
    with tempfile.TemporaryDirectory(prefix="sanad-gate-") as tmp:
        news = Library.open(
            LibrarySettings(database_url=f"sqlite:///{tmp}/news.db", index_dir=Path(tmp) / "ix"),
            encoder=encoder,
        )
        news.prepare()
        parts = {}
        for part in ("train", "test"):
            work = Path(tmp) / part
            work.mkdir()
            arcd = arcd_rows(news, args.arcd / f"arcd-{part}.json", encoder, work)
            parts[part] = news_rows(news, part) + arcd
        if args.fit:
            weights, bias = fit(parts["train"])
            print("WEIGHTS =", tuple(round(float(w), 4) for w in weights), "BIAS =", round(bias, 4))
        best = max(np.arange(0.3, 0.91, 0.05), key=lambda t: f1(parts["train"], t))
        print(f"threshold with the best F1 on the train split: {best:.2f}")
        gates = {
            "cosine >= 0.84 (old)": lambda e: e.dense >= OLD_THRESHOLD,
            f"gate >= {DEFAULT_MIN_RELEVANCE} (new)": lambda e: (
                e.relevance >= DEFAULT_MIN_RELEVANCE
            ),
        }
        print("\n## test split\n")
        report(parts["test"], gates)
        print("\n## train split\n")
        report(parts["train"], gates)
        print()
        english_recall(news)


if __name__ == "__main__":
    main()
