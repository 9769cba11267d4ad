"""Question and sentence encoding: torch against ONNX Runtime, the same model, one run.

    .venv/bin/python -m benchmarks.query_encoding [QA_FILE] [--limit N] [--threads T]

For each of the file's first N questions (ARCD-test by default), interleaved so machine noise
hits both alike: one question alone (a lone user's question), the question with 15 others
(a batch under load, per question), and the openings of two sentences of its paragraph
(the answer sentence's close calls, cut as `retrieval.search` cuts them: `sentences.opening`),
each in forward passes of `SMALL_BATCH` rows as the product runs them. Prints median and p95 ms
for each engine, their ratio, and the lowest cosine between the two engines' vectors; then, on
ONNX Runtime, the batch of 16 in one padded pass against passes of SMALL_BATCH.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

from corpus.split import content_sentences
from retrieval.arabic import strip_marks
from retrieval.encoder import SMALL_BATCH, E5Encoder, load_encoder
from retrieval.evaluate import load_squad
from retrieval.sentences import opening
from retrieval.settings import LibrarySettings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
BATCH = 16


def _ms(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return 1000 * statistics.median(ordered), 1000 * ordered[int(0.95 * (len(ordered) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "qa_file", type=Path, nargs="?", default=ROOT.parent / "shared/data/arcd/arcd-test.json"
    )
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--threads", type=int, default=0, help="torch/ORT threads (0: torch's)")
    args = parser.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    settings = LibrarySettings.load()
    encoder = load_encoder(settings.model, settings.cache_dir)
    if not isinstance(encoder, E5Encoder) or encoder._graph is None:
        raise SystemExit("error: the bundled model with its ONNX graph is needed (MODEL=default)")
    qa = load_squad(args.qa_file)
    questions = qa.questions[: args.limit]
    batch = min(BATCH, len(questions))
    if batch <= SMALL_BATCH:
        raise SystemExit(f"error: --limit must be over {SMALL_BATCH} (a batch of passes)")
    graph, model = encoder._graph, encoder._model

    times: dict[tuple[str, str], list[float]] = {}
    lowest = 1.0
    passes: dict[int, list[float]] = {}  # rows per forward pass -> seconds per question
    warm_up = encoder._ids(["warm-up"], "query")
    encoder._embed(model, warm_up, 32), graph.embed(warm_up, 32)
    for n, question in enumerate(questions):
        text = qa.paragraphs[question.paragraph]
        spans = content_sentences(text)[:2]
        cases = {
            "one question": encoder._ids([question.text], "query"),
            f"batch of {batch}, per question": encoder._ids(
                [q.text for q in (questions * 2)[n : n + batch]], "query"
            ),
            "two sentences (openings)": encoder._ids(
                [opening(strip_marks(text[a:b])) for a, b in spans], "document"
            ),
        }
        for case, ids in cases.items():
            vectors = {}
            for engine in ("torch", "onnxruntime") if n % 2 else ("onnxruntime", "torch"):
                started = time.perf_counter()
                if engine == "torch":
                    vectors[engine] = encoder._embed(model, ids, SMALL_BATCH)
                else:
                    vectors[engine] = graph.embed(ids, SMALL_BATCH)
                elapsed = time.perf_counter() - started
                per = len(ids) if "per" in case else 1
                times.setdefault((case, engine), []).append(elapsed / per)
            agree = np.sum(vectors["torch"] * vectors["onnxruntime"], 1)
            lowest = min(lowest, float(np.min(agree)))
        ids = cases[f"batch of {batch}, per question"]
        for rows in (batch, SMALL_BATCH) if n % 2 else (SMALL_BATCH, batch):
            started = time.perf_counter()
            graph.embed(ids, rows)
            passes.setdefault(rows, []).append((time.perf_counter() - started) / len(ids))
    print(f"{len(questions)} questions of {args.qa_file.name}, threads {torch.get_num_threads()}")
    for case in dict.fromkeys(case for case, _ in times):
        (tm, tp), (om, op) = _ms(times[(case, "torch")]), _ms(times[(case, "onnxruntime")])
        print(
            f"{case:28s} torch median {tm:6.1f} p95 {tp:6.1f} ms | onnxruntime median {om:6.1f}"
            f" p95 {op:6.1f} ms | torch/onnxruntime {tm / om:4.2f}x"
        )
    print(f"lowest cosine between the engines' vectors: {lowest:.7f}")
    (one, _), (small, _) = _ms(passes[batch]), _ms(passes[SMALL_BATCH])
    print(
        f"batch of {batch} on onnxruntime, per question: one pass median {one:.1f} ms | passes "
        f"of {SMALL_BATCH} median {small:.1f} ms | {one / small:4.2f}x"
    )


if __name__ == "__main__":
    main()
