"""The durable embedding store: every passage vector, written as soon as its batch is encoded.

One SQLite table, key -> float32 vector, where the key is sha256(model fingerprint + embedded
text) (`index.embedding_key`): a build killed at any moment keeps every batch it committed, and
any later build, index generation or process reuses them. The idea is simonw/llm's embeddings
table (vectors keyed by content hash in SQLite). WAL mode: readers never block the writer.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Final

import numpy as np

from retrieval.errors import IndexCorrupt

# A rowid table with a unique key, not WITHOUT ROWID: SQLite packs 1.5 KB rows badly in a
# WITHOUT ROWID b-tree (the archive's 71k vectors took 335 MB that way, 2.9x their size), and
# 8 KB pages hold five 384-dimension rows where 4 KB pages hold two.
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS vectors (
    id INTEGER PRIMARY KEY, key BLOB NOT NULL UNIQUE, vector BLOB NOT NULL
);
"""
PAGE_SIZE: Final = 8192
_CHUNK: Final = 500  # keys per `IN (...)` query (SQLite allows 32,766 parameters)


def connect(path: Path, page_size: int | None = None) -> sqlite3.Connection:
    """A connection with the settings every file of the index uses: WAL, NORMAL sync (a
    committed transaction survives a killed process; a power cut may lose the last one).
    `page_size` applies to a file being created."""
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    if page_size is not None:
        conn.execute(f"PRAGMA page_size={int(page_size)}")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, taken at once (BEGIN IMMEDIATE), committed or rolled back."""
    with conn:
        conn.execute("BEGIN IMMEDIATE")
        yield


class EmbeddingStore:
    """key (32 bytes) -> L2-normalized float32 vector of `dim` values."""

    def __init__(self, path: Path, dim: int) -> None:
        self.path = path
        self.dim = dim
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = connect(path, page_size=PAGE_SIZE)
            self._conn.executescript(_SCHEMA)
            ok = self._conn.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise IndexCorrupt(
                f"{path}: embedding store unreadable ({exc}); `python -m retrieval build` "
                "moves it aside and encodes the vectors again"
            ) from exc
        if ok != "ok":
            raise IndexCorrupt(
                f"{path}: embedding store damaged ({ok}); `python -m retrieval build` moves it "
                "aside and encodes the vectors again"
            )

    def get(self, keys: Iterable[bytes]) -> dict[bytes, np.ndarray]:
        """The stored vectors of these keys; unknown keys are absent."""
        found: dict[bytes, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT key, vector FROM vectors WHERE key IN ({marks})",
                chunk,
            )
            for key, blob in rows:
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.shape != (self.dim,):  # another model's dimension: not usable
                    continue
                found[bytes(key)] = vector
        return found

    def put(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Store vectors (shape (len(keys), dim)) in one committed transaction."""
        if len(keys) != len(vectors):
            raise ValueError(f"{len(keys)} keys for {len(vectors)} vectors")
        rows = [
            (key, np.ascontiguousarray(v, dtype=np.float32).tobytes())
            for key, v in zip(keys, vectors, strict=True)
        ]
        with transaction(self._conn):
            self._conn.executemany(
                "INSERT INTO vectors (key, vector) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET vector = excluded.vector",
                rows,
            )

    def compact(self, keep: Iterable[bytes]) -> int:
        """Drop every vector whose key is not in `keep`; returns how many were dropped."""
        with transaction(self._conn):
            self._conn.execute("CREATE TEMP TABLE IF NOT EXISTS keep (key BLOB PRIMARY KEY)")
            self._conn.execute("DELETE FROM keep")
            self._conn.executemany("INSERT OR IGNORE INTO keep VALUES (?)", ((k,) for k in keep))
            dropped = self._conn.execute(
                "DELETE FROM vectors WHERE key NOT IN (SELECT key FROM keep)"
            ).rowcount
            self._conn.execute("DELETE FROM keep")
        if dropped:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._conn.execute("VACUUM")  # give the freed pages back to the file system
        return int(dropped)

    def __len__(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM vectors").fetchone()[0])

    def close(self) -> None:
        self._conn.close()
