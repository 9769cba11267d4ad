"""A static BM25 index over passages (bm25s), analyzed with `retrieval.arabic`.

No longer a serving backend (it cannot grow in place: `lexical_tantivy` replaced it); the
benchmarks keep it to compare BM25 variants and stemmers quickly in memory."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import bm25s
import numpy as np

from retrieval.arabic import ANALYZER_VERSION, analyze_document, analyze_query
from retrieval.backends.base import Ranked
from retrieval.errors import IndexCorrupt, IndexMismatch, IndexNotReady

# Tuned on ARCD-train (hybrid MRR@10 is flat within ±0.005 for k1 0.4-1.0, b 0.8-1.0);
# a low k1 saturates repeated terms early, which suits short question queries.
K1: Final = 0.6
B: Final = 0.9
METHOD: Final = "lucene"

_IDS_FILE: Final = "ids.npy"
_MANIFEST_FILE: Final = "lexical.json"


class Bm25Index:
    """Passage ids and their BM25 index; rebuilt whole when the corpus changes."""

    def __init__(self, bm25: bm25s.BM25 | None, ids: np.ndarray) -> None:
        # `bm25` is None when no passage has a single index term (bm25s cannot index that).
        self._bm25 = bm25
        self._ids = ids

    @classmethod
    def build(cls, ids: Sequence[int], texts: Sequence[str]) -> Bm25Index:
        """Analyze `texts` and index them under the passage `ids` (same order)."""
        if len(ids) != len(texts):
            raise ValueError(f"{len(ids)} ids for {len(texts)} texts")
        id_array = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(np.unique(id_array)) != len(id_array):
            raise ValueError("passage ids must be unique")
        corpus = [analyze_document(text) for text in texts]
        if not any(corpus):
            return cls(None, id_array)
        bm25 = bm25s.BM25(k1=K1, b=B, method=METHOD)
        bm25.index(corpus, show_progress=False)
        return cls(bm25, id_array)

    def search(self, query: str, k: int) -> Ranked:
        """Up to `k` (passage id, BM25 score) pairs, best first; only passages sharing a term."""
        if self._bm25 is None or k <= 0:
            return []
        vocab = self._bm25.vocab_dict
        term_ids = [vocab[term] for term in analyze_query(query) if term in vocab]
        if not term_ids:
            return []
        scores = self._bm25.get_scores_from_ids(term_ids)
        matched = np.flatnonzero(scores > 0)
        if len(matched) > k:
            matched = matched[np.argpartition(-scores[matched], k - 1)[:k]]
        # Sort by score, then by position, so equal scores come back in a stable order.
        order = matched[np.lexsort((matched, -scores[matched]))]
        return [(int(self._ids[i]), float(scores[i])) for i in order]

    def save(self, directory: Path) -> None:
        """Write the index into `directory` (the caller makes the directory swap atomic)."""
        directory.mkdir(parents=True, exist_ok=True)
        if self._bm25 is not None:
            self._bm25.save(str(directory), show_progress=False)
        np.save(directory / _IDS_FILE, self._ids, allow_pickle=False)
        manifest = {
            "analyzer": ANALYZER_VERSION,
            "passages": len(self._ids),
            "empty": self._bm25 is None,
            "k1": K1,
            "b": B,
            "method": METHOD,
        }
        (directory / _MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> Bm25Index:
        """Read an index written by `save`; raises if it is missing, corrupt or stale."""
        if not (directory / _MANIFEST_FILE).is_file():
            raise IndexNotReady(f"no lexical index in {directory}")
        try:
            manifest = json.loads((directory / _MANIFEST_FILE).read_text(encoding="utf-8"))
            ids = np.load(directory / _IDS_FILE, allow_pickle=False)
            bm25 = None if manifest["empty"] else bm25s.BM25.load(str(directory))
        except (OSError, ValueError, KeyError) as error:
            raise IndexCorrupt(f"unreadable lexical index in {directory}: {error}") from error
        if manifest["analyzer"] != ANALYZER_VERSION:
            raise IndexMismatch(
                f"lexical index built with analyzer {manifest['analyzer']!r}, "
                f"this code uses {ANALYZER_VERSION!r}: rebuild the index"
            )
        num_docs = len(ids) if bm25 is None else bm25.scores["num_docs"]
        if len(ids) != manifest["passages"] or num_docs != len(ids):
            raise IndexCorrupt(f"lexical index in {directory} has inconsistent passage counts")
        return cls(bm25, ids)

    def __len__(self) -> int:
        return len(self._ids)
