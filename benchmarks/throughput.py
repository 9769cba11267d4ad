"""Passage encoding throughput: batches in corpus order against length-sorted batches.

    .venv/bin/python benchmarks/throughput.py [--archive FILE] [--passages 256] [--batch 32]

Takes the first N passages of the archive (split as ingest does), encodes them with the real
model in batches, once in corpus order and once sorted by length (what `IndexStore.build` does),
and prints passages/s for both and their ratio, measured in one run.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from corpus.ingest import stream_paths
from corpus.split import clean_text, split_passages
from retrieval.encoder import load_encoder
from retrieval.index import IndexInput, embedding_text
from retrieval.settings import LibrarySettings

ROOT = Path(__file__).resolve().parent.parent


def sample(archive: Path, count: int) -> list[str]:
    texts: list[str] = []
    for record in stream_paths([archive], []):
        for span in split_passages(clean_text(record.body)):
            texts.append(embedding_text(IndexInput(0, record.title, span.text)))
            if len(texts) == count:
                return texts
    return texts


def rate(encoder, texts: list[str], batch: int) -> float:
    started = time.perf_counter()
    for start in range(0, len(texts), batch):
        encoder.encode_passages(texts[start : start + batch], batch_size=batch)
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--archive", type=Path, default=ROOT.parent / "shared/data/news/saudinewsnet_full.jsonl.gz"
    )
    parser.add_argument("--passages", type=int, default=256)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    settings = LibrarySettings.load()
    encoder = load_encoder(settings.model, settings.cache_dir)
    texts = sample(args.archive, args.passages)
    encoder.encode_passages(texts[: args.batch])  # warm-up
    in_order = rate(encoder, texts, args.batch)
    by_length = rate(encoder, sorted(texts, key=len), args.batch)
    print(f"{len(texts)} archive passages, batches of {args.batch}")
    print(f"corpus order:    {in_order:.1f} passages/s")
    print(f"sorted by length: {by_length:.1f} passages/s  ({by_length / in_order:.2f}x)")


if __name__ == "__main__":
    main()
