"""What the index store and the retriever need of a dense and of a lexical index.

Modelled on txtai's `ann/` package: a small interface per kind of index, implementations chosen
by name (`retrieval.backends.get_backend`), callers that never import the engine behind them.
Both grow and shrink in place: an article added or deleted touches only its own passages.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, Self

import numpy as np

# One ranked result list: (passage id, score), best first.
Ranked = list[tuple[int, float]]


class DenseIndex(Protocol):
    """Normalized passage vectors in memory, searched by inner product (= cosine similarity).

    The vectors themselves are persisted by the embedding store (`retrieval.vectorstore`); a
    process fills its dense index from there when it loads a generation.
    """

    @classmethod
    def empty(cls, dim: int) -> Self:
        """An index of `dim`-dimensional vectors holding nothing."""

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Hold `vectors` (shape (len(ids), dim), float32, L2-normalized) under `ids`; an id
        already held is replaced."""

    def remove(self, ids: Sequence[int]) -> None:
        """Forget these passages (unknown ids are ignored)."""

    def search(self, query: np.ndarray, k: int) -> Ranked:
        """Up to `k` (passage id, cosine) pairs for one query vector of shape (dim,)."""

    def vectors(self, ids: Sequence[int]) -> dict[int, np.ndarray]:
        """The held vectors of those of `ids` that are held."""

    def __contains__(self, passage_id: object) -> bool: ...

    def __len__(self) -> int: ...


class LexicalIndex(Protocol):
    """Keyword search over the Arabic analyzer's terms (`retrieval.arabic`), on disk.

    Writes are committed atomically: a reader sees the index before or after a commit, never
    in between, and a crash leaves the last commit.
    """

    @classmethod
    def create(cls, folder: Path) -> Self:
        """A new, empty index in `folder`."""

    @classmethod
    def open(cls, folder: Path) -> Self:
        """The index in `folder`; raises IndexCorrupt, IndexMismatch or IndexNotReady."""

    def upsert(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        """Index `texts` under the passage `ids` (replacing those ids) and commit; ValueError
        when the lengths differ or an id is given twice."""

    def remove(self, ids: Sequence[int]) -> dict[int, str]:
        """Delete these passages and commit; returns the texts they were indexed with."""

    def reload(self) -> None:
        """See the latest commit (another process may have written it)."""

    def search(self, query: str, k: int) -> Ranked:
        """Up to `k` (passage id, score) pairs, best first; only passages sharing a term."""

    def __len__(self) -> int: ...
