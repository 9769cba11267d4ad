"""Index backends by name: `get_backend(settings.index_backend)` gives the dense and lexical
index classes; nothing above this package imports faiss or tantivy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from retrieval.backends.base import DenseIndex, LexicalIndex, Ranked
from retrieval.errors import RetrievalError

__all__ = [
    "DEFAULT_BACKEND",
    "PGVECTOR",
    "Backend",
    "DenseIndex",
    "LexicalIndex",
    "Ranked",
    "UnknownBackend",
    "backend_names",
    "get_backend",
    "register_backend",
]

DEFAULT_BACKEND = "faiss-tantivy"
# The index inside PostgreSQL (backends/postgres.py): not a pair of index classes over files but
# a store of its own, chosen by `retrieval.library.index_storage`.
PGVECTOR = "pgvector"


class UnknownBackend(RetrievalError, ValueError):
    """INDEX_BACKEND names no registered backend."""


@dataclass(frozen=True)
class Backend:
    """A named pair of index implementations."""

    name: str
    dense: type[DenseIndex]
    lexical: type[LexicalIndex]


def _faiss_tantivy() -> Backend:
    # Imported on demand: faiss and tantivy load native code a process may not need.
    from retrieval.backends.dense_faiss import FaissDenseIndex
    from retrieval.backends.lexical_tantivy import TantivyIndex

    return Backend(DEFAULT_BACKEND, FaissDenseIndex, TantivyIndex)


_FACTORIES: dict[str, Callable[[], Backend]] = {DEFAULT_BACKEND: _faiss_tantivy}


def backend_names() -> list[str]:
    """The names INDEX_BACKEND accepts."""
    return sorted([*_FACTORIES, PGVECTOR])


def register_backend(name: str, factory: Callable[[], Backend]) -> None:
    """Make a backend available under `name` (tests register an in-memory one)."""
    _FACTORIES[name] = factory


def get_backend(name: str) -> Backend:
    """The backend registered under `name`; UnknownBackend otherwise."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise UnknownBackend(
            f"unknown index backend {name!r} (known: {', '.join(backend_names())})"
        ) from None
    return factory()
