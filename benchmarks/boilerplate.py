"""Site boilerplate dropped at ingest: how many lines, from which sources, and a sample to read.

    .venv/bin/python benchmarks/boilerplate.py [FILE.jsonl(.gz) ...] [--sample 40] [--seed 1]

Ingests the files (default: the bundled demo corpus, then the whole SaudiNewsNet archive) each
into a fresh temporary SQLite database through `corpus.ingest.ingest_records` (the product path)
and prints the lines dropped per source and a random sample of them, so they can be checked by
eye. Recording is done by wrapping `corpus.ingest.strip_boilerplate`.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

import corpus.ingest as ingest
from corpus.store import create_db_engine, init_db, make_session_factory

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = [
    ROOT / "corpus/data/saudinewsnet_demo200.jsonl",
    ROOT.parent / "shared/data/news/saudinewsnet_full.jsonl.gz",
]


def run(path: Path, sample: int, rng: random.Random) -> None:
    dropped: list[tuple[str, str]] = []
    original = ingest.strip_boilerplate
    sources: dict[str, str] = {}  # cleaned title -> source, to attribute what was dropped

    def recording(body: str, title: str, repeated):  # type: ignore[no-untyped-def]
        result = original(body, title, repeated)
        dropped.extend((sources.get(title, "?"), line) for line in result.removed)
        return result

    def records():  # type: ignore[no-untyped-def]
        for record in ingest.stream_paths([path], problems):
            sources[ingest.clean_text(record.title)] = record.source or "?"
            yield record

    problems: list = []
    ingest.strip_boilerplate = recording
    try:
        with tempfile.TemporaryDirectory(prefix="sanad-boilerplate-") as tmp:
            engine = create_db_engine(f"sqlite:///{Path(tmp) / 'corpus.db'}")
            init_db(engine)
            started = time.perf_counter()
            with make_session_factory(engine)() as session:
                report = ingest.ingest_records(session, records())
            seconds = time.perf_counter() - started
            engine.dispose()
    finally:
        ingest.strip_boilerplate = original
    print(f"\n== {path.name}: {report.summary()} in {seconds:.1f} s")
    print(f"boilerplate lines dropped: {len(dropped)} in {len(report.added)} articles")
    for name, count in Counter(name for name, _ in dropped).most_common(15):
        print(f"  {count:6d}  {name}")
    shapes = Counter(" ".join(line.split()[:6]) for _, line in dropped)
    print("commonest beginnings:")
    for start, count in shapes.most_common(12):
        print(f"  {count:6d}  {start}")
    print(f"random sample of {min(sample, len(dropped))}:")
    for name, line in rng.sample(dropped, min(sample, len(dropped))):
        print(f"  [{name}] {line[:150]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=DEFAULTS)
    parser.add_argument("--sample", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    for path in args.files:
        run(path, args.sample, rng)


if __name__ == "__main__":
    main()
