"""The embedded lexical index: BM25 over passages in a tantivy index, analyzed with
`retrieval.arabic`.

tantivy (the Rust engine behind Quickwit, Lucene's design) keeps immutable segments plus fresh
ones, merges them in the background and scores with BM25 over statistics of the whole index,
so a passage's score does not depend on the segment it sits in. Commits are atomic. The
project's analyzer runs in Python; tantivy gets its terms joined by spaces and splits them on
whitespace only. tantivy's BM25 constants are Lucene's (k1 1.2, b 0.75).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import tantivy

from retrieval.arabic import ANALYZER_VERSION, analyze_document, analyze_query
from retrieval.backends.base import Ranked
from retrieval.errors import IndexCorrupt, IndexMismatch, IndexNotReady

_SETTINGS: Final = "sanad-lexical.json"
_PID, _TERMS, _TEXT = "pid", "terms", "text"
WRITER_HEAP: Final = 64_000_000  # bytes buffered before tantivy flushes a segment
WRITER_THREADS: Final = 1  # the other core keeps answering (or encoding)


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field(_PID, stored=True, indexed=True, fast=True)
    # Stored too: purging deleted passages re-adds the others without analyzing them again.
    builder.add_text_field(_TERMS, stored=True, tokenizer_name="whitespace", index_option="freq")
    # The indexed text itself, so a removal can say which words left (the spelling table).
    builder.add_bytes_field(_TEXT, stored=True, indexed=False)
    return builder.build()


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
        (folder / _SETTINGS).write_text(json.dumps({"analyzer": ANALYZER_VERSION}))
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
        if settings.get("analyzer") != ANALYZER_VERSION:
            raise IndexMismatch(
                f"lexical index built with analyzer {settings.get('analyzer')!r}, "
                f"this code uses {ANALYZER_VERSION!r}: rebuild the index"
            )
        return cls(folder, index)

    def upsert(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        if len(ids) != len(texts):
            raise ValueError(f"{len(ids)} ids for {len(texts)} texts")
        writer = self._index.writer(WRITER_HEAP, WRITER_THREADS)
        for pid, text in zip(ids, texts, strict=True):
            writer.delete_documents_by_term(_PID, int(pid))
            doc = tantivy.Document()
            doc.add_integer(_PID, int(pid))
            doc.add_text(_TERMS, " ".join(analyze_document(text)))
            doc.add_bytes(_TEXT, text.encode("utf-8"))
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
        if not texts:
            return texts
        gone = set(texts)
        searcher = self._index.searcher()
        writer = self._index.writer(WRITER_HEAP, WRITER_THREADS)
        writer.delete_all_documents()
        every = searcher.search(tantivy.Query.all_query(), max(1, searcher.num_docs), count=False)
        for _, address in every.hits:
            doc = searcher.doc(address)
            if int(doc[_PID][0]) not in gone:
                writer.add_document(doc)
        writer.commit()
        writer.wait_merging_threads()
        self._index.reload()
        return texts

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
        hits = searcher.search(q, k, count=False).hits
        pids = searcher.fast_field_values(_PID, [address for _, address in hits])
        # Equal scores come back by passage id, so the order never depends on segment layout.
        ranked = [
            (int(pid), float(score))
            for (score, _), pid in zip(hits, pids, strict=True)
            if pid is not None
        ]
        return sorted(ranked, key=lambda item: (-item[1], item[0]))

    def __len__(self) -> int:
        return int(self._index.searcher().num_docs)
