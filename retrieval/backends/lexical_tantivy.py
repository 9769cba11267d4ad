"""The embedded lexical index: BM25 over passages in a tantivy index, analyzed with
`retrieval.arabic`.

tantivy (the Rust engine behind Quickwit, Lucene's design) keeps immutable segments plus fresh
ones, merges them in the background and scores with BM25 over statistics of the whole index,
so a passage's score does not depend on the segment it sits in. Commits are atomic. The
project's analyzer runs in Python; tantivy gets its terms joined by spaces and splits them on
whitespace only.

tantivy's BM25 constants are fixed at Lucene's (k1 1.2, b 0.75); ours (`K1`, `B`) were tuned
on ARCD-train and are worth 0.9 pt of ARCD-test hybrid recall@1. So tantivy ranks a candidate
pool (`POOL` passages) and these are scored again with `K1`/`B` over the same index-wide
statistics: N and document frequencies from tantivy, passage lengths and their mean from a
fast field, term frequencies read back from tantivy's per-term scores.
"""

from __future__ import annotations

import bisect
import functools
import json
import math
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

import tantivy

from retrieval.arabic import ANALYZER_VERSION, analyze_document, analyze_query
from retrieval.backends.base import Ranked
from retrieval.errors import IndexCorrupt, IndexMismatch, IndexNotReady

_SETTINGS: Final = "sanad-lexical.json"
FORMAT: Final = 2  # 2: the length fast field
_PID, _TERMS, _TEXT, _LENGTH = "pid", "terms", "text", "length"
# Tuned on ARCD-train (hybrid MRR@10 flat within ±0.005 for k1 0.4-1.0, b 0.8-1.0); a low k1
# saturates repeated terms early, which suits short question queries. Lucene's IDF.
K1: Final = 0.6
B: Final = 0.9
# tantivy's candidates scored again with K1/B. On ARCD-train pools of 50, 150 and 300 gave the
# same rankings; 150 (3x fusion.CANDIDATES) leaves a margin at archive scale, for +3 ms of
# lexical p50 at 71k passages (benchmarks/scale.py).
POOL: Final = 150
WRITER_HEAP: Final = 64_000_000  # bytes buffered before tantivy flushes a segment
WRITER_THREADS: Final = 1  # the other core keeps answering (or encoding)


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field(_PID, stored=True, indexed=True, fast=True)
    # Stored too: purging deleted passages re-adds the others without analyzing them again.
    builder.add_text_field(_TERMS, stored=True, tokenizer_name="whitespace", index_option="freq")
    # The indexed text itself, so a removal can say which words left (the spelling table).
    builder.add_bytes_field(_TEXT, stored=True, indexed=False)
    # Terms per passage, for the mean length BM25 normalizes by.
    builder.add_integer_field(_LENGTH, stored=True, indexed=False, fast=True)
    return builder.build()


_TANTIVY_K1, _TANTIVY_B = 1.2, 0.75  # tantivy's BM25 constants (src/query/bm25.rs)
# A query term held by at most this many passages is counted by its own term query over the
# whole index (its hits outside the pool dropped); a commoner one through the pool filter (a
# term set of the pool's passage ids), whose cost does not grow with the term's frequency.
# Same rankings (400 of 400 questions), lexical search 2.65x faster at 11,131 passages and
# 2.15x at 48,475 (benchmarks/lexical_terms.py); at 10,011 passages, unfiltered up to 500,
# 2,000 and 5,000: median 2.62, 1.88 and 2.74 ms against 7.69 filtered.
_UNFILTERED_DF = 2000
_TRUSTED_TF = 12  # above this, a term's count is read from the stored passage instead


def _fieldnorm_table() -> list[int]:
    """tantivy's (and Lucene's) one-byte document lengths (src/fieldnorm/code.rs): exact up
    to 40, then eight buckets per doubling of the step (42, 44 … 56, 60, 64 … 88, 96 …)."""
    table = list(range(41))
    step = 2
    while len(table) < 256:
        base = table[-1]
        table.extend(base + step * i for i in range(1, 9))
        step *= 2
    return table[:256]


_FIELDNORMS: Final = _fieldnorm_table()


def _quantized(length: int) -> int:
    """A document length as tantivy stores it (rounded down to its bucket)."""
    return _FIELDNORMS[bisect.bisect_right(_FIELDNORMS, length) - 1]


def _integers(values: Sequence[object]) -> list[int]:
    """Fast-field values that every passage has (a missing one means a damaged index)."""
    if any(not isinstance(value, int) for value in values):
        raise IndexCorrupt("a passage without its id or length in the lexical index")
    return [int(value) for value in values]  # type: ignore[call-overload]


def bm25(
    term_counts: Counter[str],
    length: int,
    query: Sequence[str],
    idf: dict[str, float],
    avgdl: float,
) -> float:
    """BM25 of one passage (its `term_counts`, `length` terms) for `query` terms (a repeated
    term counts again, as in a boolean query), with `K1`, `B`."""
    norm = K1 * (1.0 - B + B * length / avgdl) if avgdl > 0 else K1
    score = 0.0
    for term in query:
        tf = term_counts.get(term, 0)
        if tf:
            score += idf[term] * tf * (K1 + 1.0) / (tf + norm)
    return score


class TantivyIndex:
    """A tantivy index directory of passages: id, analyzed terms, stored text."""

    def __init__(self, folder: Path, index: tantivy.Index) -> None:
        self.folder = folder
        self._index = index
        self._schema = index.schema

    @classmethod
    def create(cls, folder: Path) -> TantivyIndex:
        folder.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(_schema(), path=str(folder), reuse=False)
        settings = {"analyzer": ANALYZER_VERSION, "format": FORMAT}
        (folder / _SETTINGS).write_text(json.dumps(settings))
        return cls(folder, index)

    @classmethod
    def open(cls, folder: Path) -> TantivyIndex:
        if not (folder / _SETTINGS).is_file():
            raise IndexNotReady(f"no lexical index in {folder}")
        try:
            settings = json.loads((folder / _SETTINGS).read_text())
            index = tantivy.Index.open(str(folder))
            index.reload()
            index.searcher().num_docs  # noqa: B018 - reads every segment's metadata
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(f"unreadable lexical index in {folder}: {exc}") from exc
        if settings.get("analyzer") != ANALYZER_VERSION or settings.get("format") != FORMAT:
            raise IndexMismatch(
                f"lexical index built with analyzer {settings.get('analyzer')!r}, format "
                f"{settings.get('format', 1)}; this code uses {ANALYZER_VERSION!r}, format "
                f"{FORMAT}: rebuild the index"
            )
        return cls(folder, index)

    def upsert(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        """Index these passages; a passage already indexed under one of the ids is replaced
        and purged (see `remove`), so that statistics never count it twice."""
        if len(ids) != len(texts):
            raise ValueError(f"{len(ids)} ids for {len(texts)} texts")
        if len(set(ids)) != len(ids):  # as the dense index: one batch, one text per passage
            raise ValueError("passage ids must be unique")
        docs = []
        for pid, text in zip(ids, texts, strict=True):
            doc = tantivy.Document()
            doc.add_integer(_PID, int(pid))
            terms = analyze_document(text)
            doc.add_text(_TERMS, " ".join(terms))
            doc.add_integer(_LENGTH, len(terms))
            doc.add_bytes(_TEXT, text.encode("utf-8"))
            docs.append(doc)
        replaced = set(self._texts(ids))
        if replaced:  # after a crash between this index's commit and the catalog's
            self._rewrite(replaced, docs)
            return
        writer = self._index.writer(WRITER_HEAP, WRITER_THREADS)
        for doc in docs:
            writer.add_document(doc)
        writer.commit()
        writer.wait_merging_threads()
        self._index.reload()

    def remove(self, ids: Sequence[int]) -> dict[int, str]:
        """Delete these passages, then purge them: tantivy, like Lucene, keeps counting a
        deleted passage in the BM25 statistics until its segment is merged, so every live
        passage is re-added from its stored fields in the same commit (no analysis; measured
        by benchmarks/scale.py as the delete time). Scores then equal a fresh build's."""
        texts = self._texts(ids)
        if texts:
            self._rewrite(set(texts), [])
        return texts

    def _rewrite(self, gone: set[int], docs: Sequence[tantivy.Document]) -> None:
        """One commit: every live passage but `gone`, re-added from its stored fields, then
        `docs`; no deleted document is left behind in the statistics."""
        searcher = self._index.searcher()
        writer = self._index.writer(WRITER_HEAP, WRITER_THREADS)
        writer.delete_all_documents()
        every = searcher.search(tantivy.Query.all_query(), max(1, searcher.num_docs), count=False)
        for _, address in every.hits:
            doc = searcher.doc(address)
            if int(doc[_PID][0]) not in gone:
                writer.add_document(doc)
        for doc in docs:
            writer.add_document(doc)
        writer.commit()
        writer.wait_merging_threads()
        self._index.reload()

    def _texts(self, ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        searcher = self._index.searcher()
        query = tantivy.Query.term_set_query(self._schema, _PID, [int(i) for i in ids])
        found = {}
        for _, address in searcher.search(query, len(ids) * 2, count=False).hits:
            doc = searcher.doc(address)
            found[int(doc[_PID][0])] = bytes(doc[_TEXT][0]).decode("utf-8")
        return found

    def reload(self) -> None:
        self._index.reload()

    def search(self, query: str, k: int) -> Ranked:
        terms = analyze_query(query)
        if not terms or k <= 0:
            return []
        should = tantivy.Occur.Should
        q = tantivy.Query.boolean_query(
            [(should, tantivy.Query.term_query(self._schema, _TERMS, term)) for term in terms]
        )
        searcher = self._index.searcher()
        hits = searcher.search(q, max(k, POOL), count=False).hits
        if not hits:
            return []
        addresses = [address for _, address in hits]
        pids = _integers(searcher.fast_field_values(_PID, addresses))
        lengths = _integers(searcher.fast_field_values(_LENGTH, addresses))
        total = searcher.num_docs
        avgdl = self._mean_length(searcher)
        # (segment, doc) -> (passage id, length): each per-term query below hits a subset
        pool = {
            (a.segment_ord, a.doc): (pid, length)
            for a, pid, length in zip(addresses, pids, lengths, strict=True)
        }
        idf = {}
        counts: dict[int, Counter[str]] = {pid: Counter() for pid in pids}

        @functools.cache
        def only() -> tantivy.Query:
            """The pool as a filter: built once, for the first common term (54 us, a tenth
            of a search of a small corpus, where no term needs it)."""
            return tantivy.Query.const_score_query(
                tantivy.Query.term_set_query(self._schema, _PID, pids), 0.0
            )

        for term in set(terms):
            df = searcher.doc_freq(_TERMS, term)
            idf[term] = math.log(1.0 + (total - df + 0.5) / (df + 0.5))
            counted = self._term_frequencies(searcher, term, df, idf[term], pool, only, avgdl)
            for pid, tf in counted:
                counts[pid][term] = tf
        ranked = [
            (pid, bm25(counts[pid], length, terms, idf, avgdl))
            for pid, length in zip(pids, lengths, strict=True)
        ]
        # Equal scores come back by passage id, so the order never depends on segment layout.
        return sorted(ranked, key=lambda item: (-item[1], item[0]))[:k]

    def _term_frequencies(
        self,
        searcher: tantivy.Searcher,
        term: str,
        df: int,
        idf: float,
        pool: dict[tuple[int, int], tuple[int, int]],
        only: Callable[[], tantivy.Query],
        avgdl: float,
    ) -> list[tuple[int, int]]:
        """(passage id, occurrences of `term`) for the passages of `pool` (their address ->
        id and length) that hold it; `df` passages of the index hold it, and `only()` matches
        the pool's (asked for when df > _UNFILTERED_DF).

        Read back from tantivy's own BM25 score of the term alone, score = idf * tf * (k1 + 1)
        / (tf + k1 * (1 - b + b * |d| / avgdl)) with its constants and its quantized |d|, so
        that no stored document is read: reading them touched the whole document store, 70 MB
        of mapped pages in a serving process at archive scale. Where the arithmetic leaves
        doubt (an index holding deleted documents shifts tantivy's statistics), the passage's
        stored terms are counted instead."""
        if df <= _UNFILTERED_DF:
            query = tantivy.Query.term_query(self._schema, _TERMS, term)
            limit = df
        else:
            must = tantivy.Occur.Must
            query = tantivy.Query.boolean_query(
                [(must, tantivy.Query.term_query(self._schema, _TERMS, term)), (must, only())]
            )
            limit = len(pool)
        hits = searcher.search(query, max(limit, 1), count=False).hits
        result = []
        for score, address in hits:
            found = pool.get((address.segment_ord, address.doc))
            if found is None:  # outside the pool (unfiltered query)
                continue
            pid, length = found
            norm = _TANTIVY_K1 * (1 - _TANTIVY_B + _TANTIVY_B * _quantized(length) / avgdl)
            x = score / idf if idf > 0 else 0.0
            estimate = x * norm / (_TANTIVY_K1 + 1 - x) if x < _TANTIVY_K1 + 1 else 0.0
            tf = round(estimate)
            # The inversion is exact for an index without deleted documents (upsert and
            # remove purge them); near saturation (large tf) it is too flat to trust.
            if tf < 1 or tf > _TRUSTED_TF or abs(estimate - tf) > 0.2:
                doc = searcher.doc(address)
                tf = (doc[_TERMS][0].split() if doc[_TERMS] else []).count(term)
            result.append((pid, tf))
        return result

    @staticmethod
    def _mean_length(searcher: tantivy.Searcher) -> float:
        """Mean terms per live passage (deleted ones are not counted)."""
        result = searcher.aggregate(
            tantivy.Query.all_query(), {"length": {"avg": {"field": _LENGTH}}}
        )
        value = result.get("length", {}).get("value")
        return float(value) if value is not None else 0.0

    def __len__(self) -> int:
        return int(self._index.searcher().num_docs)
