"""The catalog of one index generation (SQLite): what the generation holds and what changed.

    meta     key -> value: format, model, fingerprint, dim, backend, analyzer, corpus hash
    members  passage_id -> embedding key, embedded text length, whether its vector is served
    words    corpus word -> occurrences (the spelling table, `retrieval.spelling`)
    log      seq -> (op, passage_id): the change feed every serving process follows

Ops in the log: "lexical" (the lexical index committed: reload it and the words), "dense"
(this passage's vector is stored: serve it), "remove" (this passage left the index). A process
that served up to seq N applies the entries after N (`LiveIndex.refresh`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from retrieval.errors import IndexCorrupt
from retrieval.vectorstore import connect, transaction

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS members (
    passage_id INTEGER PRIMARY KEY,
    key BLOB NOT NULL,
    length INTEGER NOT NULL,
    dense INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS members_pending ON members (dense, length);
CREATE TABLE IF NOT EXISTS words (word TEXT PRIMARY KEY, n INTEGER NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS words_seq ON words (seq);
CREATE TABLE IF NOT EXISTS log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, op TEXT NOT NULL, passage_id INTEGER
);
"""
_CHUNK: Final = 500


@dataclass(frozen=True)
class Change:
    """One log entry."""

    seq: int
    op: str
    passage_id: int | None


class Catalog:
    """One generation's catalog file; every write is one committed transaction."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        if not create and not path.is_file():
            raise IndexCorrupt(f"{path}: catalog missing")
        self.path = path
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = connect(path)
            if create:
                self._conn.executescript(_SCHEMA)
            ok = self._conn.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise IndexCorrupt(f"{path}: catalog unreadable ({exc})") from exc
        if ok != "ok":
            raise IndexCorrupt(f"{path}: catalog damaged ({ok})")

    # --- reading -----------------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        try:
            return dict(self._conn.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError as exc:
            raise IndexCorrupt(f"{self.path}: catalog unreadable ({exc})") from exc

    def data_version(self) -> int:
        """Changes whenever another connection commits to this file (SQLite PRAGMA)."""
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def member_ids(self) -> set[int]:
        return {row[0] for row in self._conn.execute("SELECT passage_id FROM members")}

    def counts(self) -> tuple[int, int]:
        """(passages held, passages whose vector is served)."""
        row = self._conn.execute("SELECT count(*), coalesce(sum(dense), 0) FROM members")
        total, dense = row.fetchone()
        return int(total), int(dense)

    def pending(self) -> list[tuple[int, bytes]]:
        """(passage id, key) of members without a served vector, shortest text first."""
        rows = self._conn.execute(
            "SELECT passage_id, key FROM members WHERE dense = 0 ORDER BY length, passage_id"
        )
        return [(pid, bytes(key)) for pid, key in rows]

    def dense_members(self) -> list[tuple[int, bytes]]:
        rows = self._conn.execute("SELECT passage_id, key FROM members WHERE dense = 1")
        return [(pid, bytes(key)) for pid, key in rows]

    def keys_of(self, ids: Sequence[int]) -> dict[int, bytes]:
        found: dict[int, bytes] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = list(ids[start : start + _CHUNK])
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT passage_id, key FROM members WHERE passage_id IN ({marks})",
                chunk,
            )
            found.update((pid, bytes(key)) for pid, key in rows)
        return found

    def all_keys(self) -> list[bytes]:
        return [bytes(row[0]) for row in self._conn.execute("SELECT key FROM members")]

    def last_seq(self) -> int:
        return int(self._conn.execute("SELECT coalesce(max(seq), 0) FROM log").fetchone()[0])

    def changes_since(self, seq: int) -> list[Change]:
        rows = self._conn.execute(
            "SELECT seq, op, passage_id FROM log WHERE seq > ? ORDER BY seq", (seq,)
        )
        return [Change(*row) for row in rows]

    def words(self, since: int = 0) -> dict[str, int]:
        """Word counts changed after log entry `since` (all of them for 0)."""
        rows = self._conn.execute("SELECT word, n FROM words WHERE seq > ?", (since,))
        return dict(rows)

    # --- writing -----------------------------------------------------------------------------
    def set_meta(self, values: Mapping[str, object]) -> None:
        with transaction(self._conn):
            self._conn.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [(k, str(v)) for k, v in values.items()],
            )

    def add_lexical(
        self, rows: Sequence[tuple[int, bytes, int]], word_deltas: Mapping[str, int]
    ) -> None:
        """In one transaction: hold these (passage id, key, text length) rows, vectors not yet
        served, and log the lexical commit that indexed them with its word count changes."""
        with transaction(self._conn):
            self._conn.executemany(
                "INSERT OR REPLACE INTO members (passage_id, key, length, dense) "
                "VALUES (?, ?, ?, 0)",
                rows,
            )
            self._words(word_deltas)

    def _words(self, word_deltas: Mapping[str, int]) -> None:
        seq = self._log("lexical", None)
        self._conn.executemany(
            "INSERT INTO words (word, n, seq) VALUES (?, ?, ?) "
            "ON CONFLICT(word) DO UPDATE SET n = max(0, n + excluded.n), seq = excluded.seq",
            [(w, n, seq) for w, n in word_deltas.items() if n],
        )

    def mark_dense(self, ids: Sequence[int]) -> None:
        """These passages' vectors are stored: serve them."""
        with transaction(self._conn):
            self._change("UPDATE members SET dense = 1 WHERE passage_id = ?", "dense", ids)

    def remove(self, ids: Sequence[int], word_deltas: Mapping[str, int]) -> None:
        """In one transaction: these passages left the index (and the lexical commit that
        removed them brought these word count changes)."""
        with transaction(self._conn):
            self._change("DELETE FROM members WHERE passage_id = ?", "remove", ids)
            self._words(word_deltas)

    def _change(self, statement: str, op: str, ids: Sequence[int]) -> None:
        for pid in ids:
            self._conn.execute(statement, (pid,))
            self._log(op, pid)

    def _log(self, op: str, passage_id: int | None) -> int:
        cursor = self._conn.execute(
            "INSERT INTO log (op, passage_id) VALUES (?, ?)", (op, passage_id)
        )
        return int(cursor.lastrowid or 0)

    def close(self) -> None:
        self._conn.close()
