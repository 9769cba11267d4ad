"""Retriever.search(question, k) -> list[Hit]: dense, lexical or hybrid, with citations."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from corpus.split import content_sentences, sentence_layout
from corpus.store import article_bodies, passage_views
from corpus.types import PassageView
from retrieval.arabic import strip_marks
from retrieval.dedupe import group_duplicates
from retrieval.encoder import Encoder
from retrieval.errors import EmptyQuery, IndexNotReady
from retrieval.fusion import CANDIDATES, fuse
from retrieval.gate import evidence, is_arabic, question_terms
from retrieval.index import LiveIndex
from retrieval.sentences import best_sentence, close_calls
from retrieval.spelling import ModelSpelling, model_spellings
from retrieval.types import Hit

Mode = Literal["dense", "lexical", "hybrid"]
MODES: tuple[Mode, ...] = ("dense", "lexical", "hybrid")
# Longest question searched, in characters; longer ones are cut (the bot tells the user). The
# encoder's 512-token window holds about this much Arabic text.
MAX_QUESTION_CHARS = 1000


# Markup pasted into a question (<b>, </a>, <script>) is not part of what is asked: its words
# would only dilute the evidence the answer gate weighs.
_TAG = re.compile(r"</?[A-Za-z][^<>]{0,200}>")


def clean_question(question: str) -> str:
    """Trim and bound a question, drop markup tags; raise EmptyQuery when nothing searchable
    is left."""
    text = " ".join(_TAG.sub(" ", question).split())[:MAX_QUESTION_CHARS]
    if not any(unicodedata.category(ch)[0] in "LN" for ch in text):
        raise EmptyQuery("the question has no letters or digits")
    return text


class Retriever:
    """Answers questions from one index version; `swap` replaces it atomically."""

    def __init__(
        self,
        encoder: Encoder,
        session_factory: sessionmaker[Session],
        version: LiveIndex | None,
    ) -> None:
        self.encoder = encoder
        self.session_factory = session_factory
        self._version = version
        self._lock = threading.Lock()
        self._model_spellings: ModelSpelling | None = None

    @property
    def version(self) -> LiveIndex:
        version = self._version
        if version is None:
            raise IndexNotReady("no index loaded yet: run `python -m retrieval build`")
        return version

    @property
    def model_spellings(self) -> ModelSpelling:
        """The encoder vocabulary's spellings (built on first use: ~0.3 s)."""
        if self._model_spellings is None:
            self._model_spellings = model_spellings(self.encoder.vocabulary())
        return self._model_spellings

    def swap(self, version: LiveIndex) -> None:
        """Serve `version` from now on; searches already running finish on the old one."""
        with self._lock:
            self._version = version

    def search(
        self,
        question: str,
        k: int = 5,
        *,
        mode: Mode = "hybrid",
        offset: int = 0,
        collapse: bool = True,
        fold: bool = True,
    ) -> list[Hit]:
        """The best `k` hits after skipping `offset`: one per article unless `collapse=False`,
        reprints of one story folded into one hit (`also_in`) unless `fold=False`."""
        text = clean_question(question)
        version = self.version
        version.refresh()  # serve what builds committed since the last question
        query_vector = None
        if mode != "lexical":
            # The encoder sees the question as the corpus spells it: spelling variants of one
            # question embed identically (retrieval/spelling.py).
            spelled = version.respell(strip_marks(text), self.model_spellings)
            query_vector = self.encoder.encode_queries([spelled])[0]
        ranked, dense_scores = self._rank(version, text, query_vector, mode)
        wanted = offset + k
        hits = self._assemble(version, ranked, dense_scores, wanted, collapse, fold)
        page = hits[offset:wanted]
        terms = question_terms(text)
        return [
            replace(
                hit,
                rank=offset + i + 1,
                answer_span=self._answer(text, hit, query_vector if i == 0 else None),
                sentences=tuple(sentence_layout(hit.text)),
                evidence=None
                if hit.dense_score is None
                else evidence(text, terms, hit.dense_score, hit.title, hit.text),
            )
            for i, hit in enumerate(page)
        ]

    def _rank(
        self, version: LiveIndex, text: str, query_vector: np.ndarray | None, mode: Mode
    ) -> tuple[list[tuple[int, float]], dict[int, float]]:
        n = CANDIDATES
        dense = version.dense_search(query_vector, n) if query_vector is not None else []
        if mode == "hybrid" and not is_arabic(text):
            # The BM25 analyzer is Arabic: on a public set of English questions over Arabic
            # paragraphs fusing it in cost 10 points of recall@1. (On this project's 16 English
            # questions, benchmarks/gate.py, it gained one: too few to overrule that.)
            mode = "dense"
        lexical = version.lexical.search(text, n) if mode != "dense" else []
        if mode == "dense":
            ranked = dense
        elif mode == "lexical":
            ranked = lexical
        else:
            ranked = fuse(dense, lexical)
        dense_scores = dict(dense)
        if query_vector is not None:
            missing = [pid for pid, _ in ranked if pid not in dense_scores]
            # lexical-only candidates still get a comparable cosine score (once their vectors
            # are served: a passage added moments ago may be answerable by its keywords only)
            for pid, vector in version.dense_vectors(missing).items():
                dense_scores[pid] = float(vector @ query_vector)
        return ranked, dense_scores

    def _assemble(
        self,
        version: LiveIndex,
        ranked: Sequence[tuple[int, float]],
        dense_scores: dict[int, float],
        wanted: int,
        collapse: bool,
        fold: bool,
    ) -> list[Hit]:
        with self.session_factory() as session:
            views = passage_views(session, [pid for pid, _ in ranked])
        hits: list[Hit] = []
        seen_articles: set[int] = set()
        for pid, score in ranked:
            view = views.get(pid)
            if view is None:  # deleted since the index was built
                continue
            if collapse and view.article_id in seen_articles:
                continue
            seen_articles.add(view.article_id)
            hits.append(_hit(view, score, dense_scores.get(pid)))
            if len(hits) >= wanted * 2 + 5:  # room for duplicates to fold
                break
        if collapse and fold:
            hits = self._fold_duplicates(hits)
        return hits

    def _fold_duplicates(self, hits: list[Hit]) -> list[Hit]:
        """The same story from several outlets becomes one hit listing every source."""
        if len(hits) < 2:
            return hits
        with self.session_factory() as session:
            bodies = article_bodies(session, [h.article_id for h in hits])

        def article_text(i: int) -> str:
            return bodies.get(hits[i].article_id, hits[i].text)

        folded = []
        for members in group_duplicates([hit.text for hit in hits], article_text):
            head, rest = hits[members[0]], [hits[i] for i in members[1:]]
            refs = tuple(h.citation for h in rest)
            folded.append(replace(head, also_in=refs) if refs else head)
        return folded

    def _answer(
        self, question: str, hit: Hit, query_vector: np.ndarray | None
    ) -> tuple[int, int] | None:
        """The sentence to bold. For the first hit, when the words leave it open (the best
        sentences score within TIE_MARGIN), the model's cosines decide among those."""
        spans = content_sentences(hit.text)
        if not spans:
            return None
        candidates = spans
        if query_vector is not None and len(spans) > 1:
            candidates = close_calls(question, hit.text, spans)
        if query_vector is None or len(candidates) < 2:
            return best_sentence(question, hit.text, candidates)
        sentences = [strip_marks(hit.text[start:end]) for start, end in candidates]
        cosines = (self.encoder.encode_sentences(sentences) @ query_vector).tolist()
        return best_sentence(question, hit.text, candidates, cosines)


def _hit(view: PassageView, score: float, dense_score: float | None) -> Hit:
    return Hit(
        rank=0,
        score=score,
        passage_id=view.passage_id,
        citation=view.citation,
        text=view.text,
        dense_score=dense_score,
    )
