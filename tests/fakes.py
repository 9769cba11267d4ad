"""Small stand-ins at the boundaries, for fast unit tests."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np


class FakeEncoder:
    """Deterministic bag-of-words vectors; counts how many texts it was asked to encode."""

    name = "fake"
    fingerprint = "fake-1"
    dim = 64

    def __init__(self) -> None:
        self.passages_encoded = 0
        self.queries_encoded = 0

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for word in text.split():
            h = int.from_bytes(hashlib.md5(word.encode()).digest()[:4], "little")
            v[h % self.dim] += 1.0
        norm = float(np.linalg.norm(v))
        return v / norm if norm else v

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.queries_encoded += len(texts)
        return np.vstack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim))

    def encode_passages(
        self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False
    ) -> np.ndarray:
        self.passages_encoded += len(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._vector(t) for t in texts])
