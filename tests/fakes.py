"""Small stand-ins at the boundaries, for fast unit tests."""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from retrieval.arabic import analyze_document, analyze_query
from retrieval.backends import Backend, register_backend
from retrieval.errors import IndexCorrupt


class FakeEncoder:
    """Deterministic bag-of-words vectors; counts how many texts it was asked to encode."""

    name = "fake"
    fingerprint = "fake-1"
    dim = 64
    max_tokens = 512

    def count_passage_tokens(self, text: str) -> int:
        return len(text.split()) + 2

    def vocabulary(self) -> dict[str, int]:
        return {}

    def encode_sentences(self, texts: Sequence[str]) -> np.ndarray:
        return np.vstack([self._vector(t) for t in texts])

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

    def encode_passages(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        self.passages_encoded += len(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._vector(t) for t in texts])


class MemoryDenseIndex:
    """Brute-force numpy inner product: the DenseIndex protocol with no engine behind it."""

    def __init__(self, ids: np.ndarray, matrix: np.ndarray) -> None:
        self._ids = ids
        self._matrix = matrix
        self._rows = {int(pid): row for row, pid in enumerate(ids)}

    @property
    def ids(self) -> np.ndarray:
        return self._ids

    @classmethod
    def build(cls, ids: Sequence[int], vectors: np.ndarray) -> MemoryDenseIndex:
        return cls(np.asarray(ids, dtype=np.int64), np.asarray(vectors, dtype=np.float32))

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        scores = self._matrix @ np.asarray(query, dtype=np.float32)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(int(self._ids[i]), float(scores[i])) for i in order]

    def vectors(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        return self._matrix[[self._rows[int(pid)] for pid in ids]]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(folder / "memory-dense.npz", ids=self._ids, matrix=self._matrix)

    @classmethod
    def load(cls, folder: Path) -> MemoryDenseIndex:
        try:
            data = np.load(folder / "memory-dense.npz")
        except OSError as exc:
            raise IndexCorrupt(str(exc)) from exc
        return cls(data["ids"], data["matrix"])

    def __len__(self) -> int:
        return len(self._ids)


class MemoryLexicalIndex:
    """Plain-Python BM25 (k1=0.6, b=0.9, Lucene idf) over the project's Arabic analyzer: the
    LexicalIndex protocol with no engine behind it."""

    K1, B = 0.6, 0.9

    def __init__(self, ids: list[int], docs: list[list[str]]) -> None:
        self._ids = ids
        self._docs = [Counter(doc) for doc in docs]
        self._lengths = [len(doc) for doc in docs]
        self._avg = sum(self._lengths) / len(docs) if docs else 0.0
        self._df = Counter(term for doc in self._docs for term in doc)

    @classmethod
    def build(cls, ids: Sequence[int], texts: Sequence[str]) -> MemoryLexicalIndex:
        return cls([int(i) for i in ids], [analyze_document(t) for t in texts])

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        terms = [t for t in analyze_query(query) if t in self._df]
        n = len(self._docs)
        scores = []
        for pid, doc, length in zip(self._ids, self._docs, self._lengths, strict=True):
            score = 0.0
            for term in terms:
                tf = doc.get(term, 0)
                if tf:
                    idf = math.log(1 + (n - self._df[term] + 0.5) / (self._df[term] + 0.5))
                    norm = self.K1 * (1 - self.B + self.B * length / self._avg)
                    score += idf * tf / (tf + norm)
            if score > 0:
                scores.append((pid, score))
        return sorted(scores, key=lambda item: -item[1])[:k]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        docs = [list(doc.elements()) for doc in self._docs]
        (folder / "memory-lexical.json").write_text(json.dumps([self._ids, docs]))

    @classmethod
    def load(cls, folder: Path) -> MemoryLexicalIndex:
        try:
            ids, docs = json.loads((folder / "memory-lexical.json").read_text())
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(str(exc)) from exc
        return cls(ids, docs)

    def __len__(self) -> int:
        return len(self._ids)


def memory_backend() -> Backend:
    return Backend("memory", MemoryDenseIndex, MemoryLexicalIndex)


register_backend("memory", memory_backend)
