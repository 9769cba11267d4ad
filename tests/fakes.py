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
from retrieval.errors import IndexCorrupt, IndexNotReady


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
        self.quantized_encoded = 0

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for word in text.split():
            h = int.from_bytes(hashlib.md5(word.encode()).digest()[:4], "little")
            v[h % self.dim] += 1.0
        norm = float(np.linalg.norm(v))
        return v / norm if norm else v

    def encode_queries(self, texts: Sequence[str], *, quantized: bool = False) -> np.ndarray:
        self.queries_encoded += len(texts)
        self.quantized_encoded += len(texts) if quantized else 0
        return np.vstack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim))

    def encode_passages(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        self.passages_encoded += len(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._vector(t) for t in texts])


class MemoryDenseIndex:
    """Brute-force numpy inner product: the DenseIndex protocol with no engine behind it."""

    def __init__(self, dim: int) -> None:
        self._dim = dim
        self._vectors: dict[int, np.ndarray] = {}

    @classmethod
    def empty(cls, dim: int) -> MemoryDenseIndex:
        return cls(dim)

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        for pid, vector in zip(ids, vectors, strict=True):
            self._vectors[int(pid)] = np.asarray(vector, dtype=np.float32)

    def remove(self, ids: Sequence[int]) -> None:
        for pid in ids:
            self._vectors.pop(int(pid), None)

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        if not self._vectors or k <= 0:
            return []
        ids = sorted(self._vectors)
        scores = np.vstack([self._vectors[i] for i in ids]) @ np.asarray(query, dtype=np.float32)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(ids[i], float(scores[i])) for i in order]

    def vectors(self, ids: Sequence[int]) -> dict[int, np.ndarray]:
        return {int(i): self._vectors[int(i)] for i in ids if int(i) in self._vectors}

    def __contains__(self, passage_id: object) -> bool:
        return passage_id in self._vectors

    def __len__(self) -> int:
        return len(self._vectors)


class MemoryLexicalIndex:
    """Plain-Python BM25 (k1=1.2, b=0.75, Lucene idf) over the project's Arabic analyzer, kept
    in one JSON file replaced atomically: the LexicalIndex protocol with no engine behind it."""

    K1, B = 1.2, 0.75
    FILE = "memory-lexical.json"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._texts: dict[int, str] = {}
        self.reload()

    @classmethod
    def create(cls, folder: Path) -> MemoryLexicalIndex:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / cls.FILE).write_text("{}")
        return cls(folder)

    @classmethod
    def open(cls, folder: Path) -> MemoryLexicalIndex:
        if not (folder / cls.FILE).is_file():
            raise IndexNotReady(str(folder))
        return cls(folder)

    def reload(self) -> None:
        try:
            data = json.loads((self.folder / self.FILE).read_text())
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(str(exc)) from exc
        self._texts = {int(k): v for k, v in data.items()}
        self._docs = {pid: Counter(analyze_document(t)) for pid, t in self._texts.items()}
        self._df = Counter(term for doc in self._docs.values() for term in doc)
        lengths = [sum(doc.values()) for doc in self._docs.values()]
        self._avg = sum(lengths) / len(lengths) if lengths else 0.0

    def _commit(self) -> None:
        tmp = self.folder / (self.FILE + ".tmp")
        tmp.write_text(json.dumps(self._texts))
        tmp.replace(self.folder / self.FILE)
        self.reload()

    def upsert(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        if len(set(ids)) != len(ids):  # as LexicalIndex.upsert promises
            raise ValueError("passage ids must be unique")
        self._texts.update(zip(map(int, ids), texts, strict=True))
        self._commit()

    def remove(self, ids: Sequence[int]) -> dict[int, str]:
        gone = {int(i): self._texts.pop(int(i)) for i in ids if int(i) in self._texts}
        self._commit()
        return gone

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        terms = [t for t in analyze_query(query) if t in self._df]
        n = len(self._docs)
        scores = []
        for pid, doc in self._docs.items():
            length = sum(doc.values())
            score = 0.0
            for term in terms:
                tf = doc.get(term, 0)
                if tf:
                    idf = math.log(1 + (n - self._df[term] + 0.5) / (self._df[term] + 0.5))
                    norm = self.K1 * (1 - self.B + self.B * length / self._avg)
                    score += idf * tf * (self.K1 + 1) / (tf + norm)
            if score > 0:
                scores.append((pid, score))
        return sorted(scores, key=lambda item: (-item[1], item[0]))[:k]

    def __len__(self) -> int:
        return len(self._texts)


def memory_backend() -> Backend:
    return Backend("memory", MemoryDenseIndex, MemoryLexicalIndex)


register_backend("memory", memory_backend)
