"""What a bot behind on its questions gives up: answers in full against answers shed, in one run.

    .venv/bin/python -m benchmarks.shed [QA_FILE ...] [--k 10] [--batch 16]

When questions wait, the bot's search queue (bot/searches.py) sheds two refinements to catch up:
the model's say in the answer sentence (`Query.model_sentence` off) and float32 question
encoding (`Query.quantized` on: the model's int8 graph, retrieval/e5convert.ONNX_INT8_FILE).
For each SQuAD-format file (default: ARCD-test, then the bundled news questions' test split)
its paragraphs are indexed in a throwaway store (`retrieval.evaluate.prepare_library`) and every
question is asked both ways, in rotating order (machine noise hits both alike). Prints, per
way, recall@1/5/10, mrr@10 and answer_in_sentence (`retrieval.evaluate.metrics`) and the
question latency median / p95 in process; then the cost per question of a batch of --batch
questions encoded in one call (as a search worker does under load, one torch thread), float32
against int8, with the ratio, and the cosine of each int8 question vector to its float32 one.

What a reader sees differs more than recall says: int8 vectors rank a little differently. For
the news files, every question is also asked as the bot asks it (a page of TOP_K=3 and a look at
the next, `MIN_RELEVANCE`) both ways: how many first pages show another set of articles, and,
over the same corpus, how many of the questions it cannot answer (--unanswerable) show a hit
(the answer gate let one through) each way.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from retrieval.encoder import load_encoder
from retrieval.evaluate import Outcome, ask_question, load_squad, metrics, prepare_library
from retrieval.gate import MIN_RELEVANCE
from retrieval.library import Library
from retrieval.query import Query
from retrieval.settings import LibrarySettings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = [
    ROOT.parent / "shared/data/arcd/arcd-test.json",
    ROOT / "benchmarks/data/news-qa-test.json",
]
WAYS = {"full": {}, "shed": {"model_sentence": False, "quantized": True}}
UNANSWERABLE = ROOT / "benchmarks/data/news-unanswerable.json"
TOP_K = 3  # the bot's default page


def _shown(library: Library, question: str, how: dict[str, bool]) -> tuple[int, ...]:
    """The articles of the first page the bot would show for `question` asked `how`."""
    [hits] = library.search_many([Query(question, 2 * TOP_K, explain=TOP_K, **how)])
    if not isinstance(hits, list):
        return ()
    return tuple(h.article_id for h in hits[:TOP_K] if h.passes(MIN_RELEVANCE))


def _pages(library: Library, questions: list[str], unanswerable: list[str]) -> str:
    moved = sum(
        _shown(library, q, WAYS["full"]) != _shown(library, q, WAYS["shed"]) for q in questions
    )
    shown = {
        name: sum(bool(_shown(library, q, how)) for q in unanswerable) for name, how in WAYS.items()
    }
    return (
        f"  first pages (top {TOP_K}, gated) showing other articles shed than full: "
        f"{moved} of {len(questions)}; unanswerable questions shown a hit: full "
        f"{shown['full']} of {len(unanswerable)}, shed {shown['shed']}"
    )


def _ms(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"median {1000 * statistics.median(ordered):.1f} / p95 {1000 * p95:.1f} ms"


def run(path: Path, k: int, batch: int, unanswerable: Path | None) -> None:
    settings = LibrarySettings.load()
    encoder = load_encoder(settings.model, settings.cache_dir)
    qa = load_squad(path)
    outcomes: dict[str, list[Outcome]] = {name: [] for name in WAYS}
    with tempfile.TemporaryDirectory(prefix="sanad-shed-") as tmp:
        library, to_paragraph = prepare_library(qa, encoder, Path(tmp))
        try:
            for how in WAYS.values():  # warm-up: both graphs loaded
                ask_question(library, to_paragraph, qa.questions[0], "hybrid", k, **how)
            for n, question in enumerate(qa.questions):
                names = list(WAYS)[n % len(WAYS) :] + list(WAYS)[: n % len(WAYS)]
                for name in names:
                    found = ask_question(library, to_paragraph, question, "hybrid", k, **WAYS[name])
                    outcomes[name].append(found)
            passages = library.retriever.version.size
            pages = ""
            if path.name.startswith("news-") and unanswerable is not None:
                asked = json.loads(unanswerable.read_text(encoding="utf-8"))["questions"]
                texts = [q.text for q in qa.questions]
                pages = _pages(library, texts, [q["question"] for q in asked])
        finally:
            library.close()
    print(f"{path.name}: {len(qa.questions)} questions, {passages} passages, k={k}, hybrid")
    for name, found in outcomes.items():
        m = metrics(found, passages)
        figures = "  ".join(
            f"{key} {m[key]:.4f}"
            for key in ("recall@1", "recall@5", "recall@10", "mrr@10", "answer_in_sentence")
        )
        print(f"  {name:5s} {figures}  latency {_ms([o.seconds for o in found])}")
    if pages:
        print(pages)
    texts = [q.text for q in qa.questions]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        cost: dict[bool, float] = {}
        vectors: dict[bool, np.ndarray] = {}
        for quantized in (False, True):
            encoder.encode_queries(texts[:batch], quantized=quantized)  # warm-up
            started = time.perf_counter()
            vectors[quantized] = np.vstack(
                [
                    encoder.encode_queries(texts[i : i + batch], quantized=quantized)
                    for i in range(0, len(texts), batch)
                ]
            )
            cost[quantized] = 1000 * (time.perf_counter() - started) / len(texts)
    finally:
        torch.set_num_threads(threads)
    cosines = np.sum(vectors[False] * vectors[True], axis=1)
    print(
        f"  questions encoded in batches of {batch}, one thread, per question: float32 "
        f"{cost[False]:.1f} ms | int8 {cost[True]:.1f} ms | {cost[False] / cost[True]:.2f}x; "
        f"cosine int8 to float32: mean {cosines.mean():.4f}, least {cosines.min():.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("qa_files", type=Path, nargs="*", default=DEFAULTS)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--unanswerable", type=Path, default=UNANSWERABLE)
    args = parser.parse_args()
    if args.batch < 1:
        parser.error("--batch must be >= 1")
    for path in args.qa_files:
        run(path, args.k, args.batch, args.unanswerable)


if __name__ == "__main__":
    main()
