"""Build throughput, question latency and peak memory of the retrieval core, in one run.

    .venv/bin/python benchmarks/core.py [--corpus corpus/data] [--questions 50]

Builds a throwaway index of the corpus (default: the bundled seed + 200 demo articles), then
asks ARCD-style questions derived from the corpus titles and prints the figures.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

from retrieval.encoder import load_encoder
from retrieval.library import Library
from retrieval.settings import LibrarySettings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus" / "data")
    parser.add_argument("--questions", type=int, default=50)
    args = parser.parse_args()
    defaults = LibrarySettings.load()
    started = time.perf_counter()
    encoder = load_encoder(defaults.model, defaults.cache_dir)
    load_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        settings = LibrarySettings(
            database_url=f"sqlite:///{tmp}/bench.db", index_dir=Path(tmp) / "index"
        )
        library = Library.open(settings, encoder=encoder)
        t0 = time.perf_counter()
        report = library.ingest_paths([args.corpus])
        ingest_seconds = time.perf_counter() - t0
        build = library.build()
        rebuild = library.build()
        with library.session_factory() as session:
            from corpus.models import Article

            titles = [t for (t,) in session.query(Article.title).limit(args.questions)]
        questions = [f"ما تفاصيل خبر {t}؟" for t in titles]
        library.search(questions[0], 3)  # warm-up
        for mode in ("dense", "lexical", "hybrid"):
            times = []
            for q in questions:
                t0 = time.perf_counter()
                library.search(q, 3, mode=mode)
                times.append(time.perf_counter() - t0)
            print(
                f"ask latency {mode:8s} median {1000 * statistics.median(times):6.1f} ms, "
                f"p95 {1000 * sorted(times)[int(0.95 * (len(times) - 1))]:6.1f} ms "
                f"over {len(times)} questions"
            )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"model load {load_seconds:.1f} s")
    print(f"ingest: {len(report.added)} articles in {ingest_seconds:.1f} s")
    print(
        f"build: {build.passages} passages embedded in {build.seconds:.1f} s "
        f"= {build.embedded / build.seconds:.1f} passages/s"
    )
    print(
        f"incremental rebuild (nothing changed): {rebuild.embedded} embedded, "
        f"{rebuild.seconds:.2f} s"
    )
    print(f"peak memory (max RSS): {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
