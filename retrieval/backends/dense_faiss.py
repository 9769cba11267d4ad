"""The embedded dense index: an exact FAISS inner-product index in memory, by passage id."""

from __future__ import annotations

from collections.abc import Sequence

import faiss
import numpy as np

from retrieval.backends.base import Ranked


class FaissDenseIndex:
    """`faiss.IndexIDMap2` over `faiss.IndexFlatIP`: rows addressed by passage id, so adding or
    removing an article touches only its rows (`add_with_ids`, `remove_ids`).

    Inner product equals cosine similarity on normalized vectors. Exact search; its cost at
    archive scale is measured by benchmarks/scale.py.
    """

    def __init__(self, index: faiss.IndexIDMap2) -> None:
        self._index = index
        self._ids: set[int] = set()

    @classmethod
    def empty(cls, dim: int) -> FaissDenseIndex:
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dim)))

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        if not len(ids):
            return
        id_array = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(np.unique(id_array)) != len(id_array):
            raise ValueError("passage ids must be unique")
        self.remove([int(i) for i in id_array if int(i) in self._ids])
        self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), id_array)
        self._ids.update(int(i) for i in id_array)

    def remove(self, ids: Sequence[int]) -> None:
        held = [int(i) for i in ids if int(i) in self._ids]
        if not held:
            return
        self._index.remove_ids(np.asarray(held, dtype=np.int64))  # type: ignore[arg-type]
        self._ids.difference_update(held)

    def search(self, query: np.ndarray, k: int) -> Ranked:
        k = min(k, len(self))
        if k <= 0:
            return []
        scores, ids = self._index.search(np.asarray(query, dtype=np.float32)[None, :], k)
        return [(int(i), float(s)) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0]

    def vectors(self, ids: Sequence[int]) -> dict[int, np.ndarray]:
        return {
            int(i): np.asarray(self._index.reconstruct(int(i)), dtype=np.float32)
            for i in ids
            if int(i) in self._ids
        }

    def __contains__(self, passage_id: object) -> bool:
        return passage_id in self._ids

    def __len__(self) -> int:
        return int(self._index.ntotal)
