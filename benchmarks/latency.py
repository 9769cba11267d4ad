"""Query latency by retrieval mode over the ARCD questions, measured in one run.

    .venv/bin/python benchmarks/latency.py [../shared/data/arcd/arcd.json] [--limit N]

Indexes the file's paragraphs in a throwaway store, then asks every question in every mode,
interleaving the modes question by question so machine noise hits them alike. Prints median
and p95 per mode and the hybrid/dense ratio (the target is <= 1.3).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from retrieval.encoder import load_encoder
from retrieval.evaluate import load_squad, prepare_library
from retrieval.query import MODES
from retrieval.settings import LibrarySettings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "qa_file", type=Path, nargs="?", default=ROOT.parent / "shared/data/arcd/arcd.json"
    )
    parser.add_argument("--limit", type=int, default=0, help="ask only the first N questions")
    parser.add_argument("--k", type=int, default=3)
    args = parser.parse_args()
    settings = LibrarySettings.load()
    encoder = load_encoder(settings.model, settings.cache_dir)
    qa = load_squad(args.qa_file)
    questions = [q.text for q in qa.questions][: args.limit or None]
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory() as tmp:
        library, _ = prepare_library(qa, encoder, Path(tmp))
        library.search(questions[0], args.k)  # warm-up
        for question in questions:
            for mode in MODES:
                started = time.perf_counter()
                library.search(question, args.k, mode=mode)
                times[mode].append(time.perf_counter() - started)
    print(f"{len(questions)} questions, {len(qa.paragraphs)} paragraphs, k={args.k}")
    medians = {}
    for mode, values in times.items():
        medians[mode] = statistics.median(values)
        p95 = sorted(values)[int(0.95 * (len(values) - 1))]
        print(f"{mode:8s} median {1000 * medians[mode]:6.1f} ms   p95 {1000 * p95:6.1f} ms")
    print(f"hybrid / dense median ratio: {medians['hybrid'] / medians['dense']:.2f}")


if __name__ == "__main__":
    main()
