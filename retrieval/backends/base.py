"""What the index store and the retriever need of a dense and of a lexical index.

Modelled on txtai's `ann/` package: a small interface per kind of index, implementations chosen
by name (`retrieval.backends.get_backend`), callers that never import the engine behind them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, Self

import numpy as np

# One ranked result list: (passage id, score), best first.
Ranked = list[tuple[int, float]]


class DenseIndex(Protocol):
    """Normalized passage vectors searched by inner product (= cosine similarity)."""

    @property
    def ids(self) -> np.ndarray:
        """int64 passage ids, in the order they were given to `build`."""

    @classmethod
    def build(cls, ids: Sequence[int], vectors: np.ndarray) -> Self:
        """An index of `vectors` (shape (len(ids), dim), float32, L2-normalized) under `ids`."""

    def search(self, query: np.ndarray, k: int) -> Ranked:
        """Up to `k` (passage id, cosine) pairs for one query vector of shape (dim,)."""

    def vectors(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """The stored vectors of these passages, shape (len(ids), dim); KeyError if unknown."""

    def save(self, folder: Path) -> None:
        """Write the index into `folder` (the caller makes the folder's switch atomic)."""

    @classmethod
    def load(cls, folder: Path) -> Self:
        """Read an index written by `save`; raises IndexCorrupt if unreadable."""

    def __len__(self) -> int: ...


class LexicalIndex(Protocol):
    """Keyword search over the Arabic analyzer's terms (`retrieval.arabic`)."""

    @classmethod
    def build(cls, ids: Sequence[int], texts: Sequence[str]) -> Self:
        """Analyze `texts` and index them under the passage `ids` (same order, unique ids)."""

    def search(self, query: str, k: int) -> Ranked:
        """Up to `k` (passage id, score) pairs, best first; only passages sharing a term."""

    def save(self, folder: Path) -> None:
        """Write the index into `folder`."""

    @classmethod
    def load(cls, folder: Path) -> Self:
        """Read an index written by `save`; raises IndexCorrupt, IndexMismatch or IndexNotReady."""

    def __len__(self) -> int: ...
