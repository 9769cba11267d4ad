"""Passage encoding throughput: the float32 model in corpus-order batches (how builds encoded
before) against what builds do now, on the same archive passages, measured in one run.

    .venv/bin/python benchmarks/throughput.py [--archive FILE] [--passages 256] [--batches 16 32 64]

Takes the first N passages of the archive (split as ingest does) and encodes them: float32 in
corpus order (batches of 32: the old way), float32 sorted by length, and the int8 passage copy
(`retrieval.encoder.quantize_int8`) sorted by length at each batch size; prints passages/s,
the ratio to the old way, and the mean/min cosine of the int8 vectors to the float32 ones. The
torch thread count is printed too (torch uses one per core by default).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from corpus.ingest import stream_paths
from corpus.split import clean_text, split_passages
from retrieval.encoder import DEFAULT_MODEL, INT8_PASSAGES_MODEL, Encoder, load_encoder
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


def rate(encoder: Encoder, texts: list[str], batch: int) -> tuple[float, np.ndarray]:
    """passages/s encoding `texts` in consecutive batches, and the vectors."""
    started = time.perf_counter()
    vectors = [
        encoder.encode_passages(texts[start : start + batch], batch_size=batch)
        for start in range(0, len(texts), batch)
    ]
    return len(texts) / (time.perf_counter() - started), np.vstack(vectors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--archive", type=Path, default=ROOT.parent / "shared/data/news/saudinewsnet_full.jsonl.gz"
    )
    parser.add_argument("--passages", type=int, default=256)
    parser.add_argument("--batches", type=int, nargs="+", default=[16, 32, 64])
    args = parser.parse_args()
    settings = LibrarySettings.load()
    model = load_encoder(DEFAULT_MODEL, settings.cache_dir)
    quantized = load_encoder(INT8_PASSAGES_MODEL, settings.cache_dir)
    texts = sample(args.archive, args.passages)
    by_length = sorted(texts, key=len)
    model.encode_passages(texts[:32])  # warm-up
    quantized.encode_passages(texts[:32])
    print(f"{len(texts)} archive passages, torch threads {torch.get_num_threads()}")
    old, _ = rate(model, texts, 32)
    print(f"float32, corpus order, batches of 32:  {old:5.1f} passages/s  (1.00x, the old way)")
    for batch in args.batches:
        fp32, reference = rate(model, by_length, batch)
        int8, vectors = rate(quantized, by_length, batch)
        cosine = np.sum(reference * vectors, axis=1)
        ratio = fp32 / old
        print(f"float32, sorted, batches of {batch:3d}:     {fp32:5.1f} passages/s  ({ratio:.2f}x)")
        print(
            f"int8 copy, sorted, batches of {batch:3d}:   {int8:5.1f} passages/s  "
            f"({int8 / old:.2f}x; cosine to float32 mean {cosine.mean():.4f}, "
            f"min {cosine.min():.4f})"
        )


if __name__ == "__main__":
    main()
