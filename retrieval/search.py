"""Retriever.search(question, k) -> list[Hit]: dense, lexical or hybrid, with citations."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import replace
from datetime import datetime

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from corpus.columns import utc_now
from corpus.split import PASSAGE_MEMO, content_sentences, sentence_layout
from corpus.store import (
    all_passages,
    article_bodies,
    newest_passages,
    newest_published,
    passage_count,
    passage_views,
)
from corpus.types import PassageView
from retrieval.ahead import drop, lexical_ahead, take
from retrieval.arabic import analyze_document, strip_marks
from retrieval.backends.base import Ranked
from retrieval.dedupe import ARTICLE_MEMO, group_duplicates, remember_articles
from retrieval.encoder import Encoder
from retrieval.errors import EmptyQuery, IndexNotReady, RetrievalError
from retrieval.fusion import CANDIDATES, fuse
from retrieval.gate import Evidence, evidence, is_arabic, question_terms
from retrieval.index import ServedIndex
from retrieval.query import Mode, Query, clean_question
from retrieval.recency import Recency, newest_first, reference_time
from retrieval.sentences import best_sentence, close_calls, opening
from retrieval.spelling import ModelSpelling, model_spellings
from retrieval.types import Hit, TopicMatch

# A question asking for the latest news is searched deeper than the 50 candidates a side that
# rank answers, and the newest articles (in its window) are scored by the model too: a topic
# of an archive of 1,400 articles a day («النفط») has more relevant articles than any fixed
# candidate list holds, and the most similar ones are of any day.
RECENT_CANDIDATES = 100
RECENT_ARTICLES = 500  # a third of a day of the SaudiNewsNet archive's 14 outlets
RECENT_POOL = 40  # articles whose relevance is judged: a page and several more


class Retriever:
    """Answers questions from one index version; `swap` replaces it atomically."""

    def __init__(
        self,
        encoder: Encoder,
        session_factory: sessionmaker[Session],
        version: ServedIndex | None,
    ) -> None:
        self.encoder = encoder
        self.session_factory = session_factory
        self._version = version
        self._lock = threading.Lock()
        self._model_spellings: ModelSpelling | None = None
        self.clock: Callable[[], datetime] = utc_now  # "now" of a live corpus (tests set it)

    @property
    def version(self) -> ServedIndex:
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

    def warm(self) -> None:
        """Do now what a process's first question would pay for (~1 s of CPU on this machine):
        the vocabulary's spelling table (`model_spellings`) and the int8 question graph's
        session (`Query.quantized`), so that neither lands on a question, nor in a burst.

        A corpus the per-passage memos can hold whole (PASSAGE_MEMO passages, ARTICLE_MEMO
        articles) goes into them too: sentence splits and layouts, index terms, duplicate
        shingles, which questions otherwise fill as they go. Cold, 192 questions of the bundled
        corpus in batches of 3 cost a search process 49.7 ms each against 33.7 once filled (one
        thread, one run). A larger corpus is left to fill them: no start-up scan of an archive."""
        _ = self.model_spellings
        self.encoder.encode_queries(["سند"], quantized=True)
        with self.session_factory() as session:
            if passage_count(session) > PASSAGE_MEMO:
                return
            passages = all_passages(session)
            articles = {row.article_id for row in passages}
            bodies = (
                article_bodies(session, sorted(articles)) if len(articles) <= ARTICLE_MEMO else {}
            )
        for row in passages:
            content_sentences(row.text)
            sentence_layout(row.text)
            analyze_document(row.text)
        remember_articles(bodies.values())

    def swap(self, version: ServedIndex) -> None:
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
        [result] = self.search_many([Query(question, k, mode, offset, collapse, fold)])
        if isinstance(result, RetrievalError):
            raise result
        return result

    def search_many(self, queries: Sequence[Query]) -> list[list[Hit] | RetrievalError]:
        """Several questions at once, each answered as `search` answers it (its hits, or the
        error it alone raised, e.g. EmptyQuery). The model runs twice for the whole batch, not
        twice per question: one call encodes every question, one every candidate answer
        sentence (ONNX Runtime, one thread: 16 questions in one call 15.5 ms each, one 26.5)."""
        results: list[list[Hit] | RetrievalError | None] = [None] * len(queries)
        texts: dict[int, str] = {}
        reference = self.reference_time() if any(q.recency for q in queries) else None
        for i, query in enumerate(queries):
            if query.recency is not None and reference is not None and not query.recency.topic:
                results[i] = self._newest_articles(query, query.recency, reference)
                continue
            try:
                texts[i] = clean_question(query.recency.topic if query.recency else query.question)
            except EmptyQuery as exc:
                results[i] = exc
        if not texts:
            return [r if r is not None else [] for r in results]
        version = self.version
        pages: dict[int, list[Hit]] = {}
        # One database connection for the batch, where there is one; BM25 started ahead uses a
        # second, and a job it has not started when needed is searched here instead.
        with version.reading(), contextlib.ExitStack() as stack:
            version.refresh()  # serve what builds committed since the last question
            ahead = self._lexical_ahead(version, texts, queries, reference)
            stack.callback(drop, ahead)  # a failed batch leaves no searches running for it
            vectors = self._encode_questions(version, texts, queries)
            for i, text in texts.items():
                query = queries[i]
                if query.recency is not None and reference is not None:
                    pages[i] = self._newest_relevant(
                        version, text, vectors.get(i), query, query.recency, reference, ahead.get(i)
                    )
                    continue
                ranked, dense_scores = self._rank(
                    version, text, vectors.get(i), query.mode, lexical=ahead.get(i)
                )
                wanted = query.offset + query.k
                hits = self._assemble(
                    version,
                    ranked,
                    dense_scores,
                    vectors.get(i),
                    wanted,
                    query.collapse,
                    query.fold,
                )
                pages[i] = hits[query.offset : wanted]
        shown = {i: page for i, page in pages.items() if queries[i].explain != 0}
        judged = {i: v for i, v in vectors.items() if queries[i].model_sentence}
        first_spans = self._first_answers(texts, judged, shown)
        for i, page in pages.items():
            text, offset, explain = texts[i], queries[i].offset, queries[i].explain
            terms = question_terms(text)
            explained = len(page) if explain is None else explain
            results[i] = [
                self._finish(text, terms, hit, offset + n + 1, first_spans.get(i), n)
                if n < explained
                else self._finish(text, terms, hit, offset + n + 1)
                for n, hit in enumerate(page)
            ]
        return [r if r is not None else [] for r in results]

    def match(
        self, topics: Sequence[str], passages: Sequence[PassageView]
    ) -> dict[str, list[TopicMatch]]:
        """For each topic, each article among `passages` with its best passage as a shown hit
        (rank 1, relevance, answer sentence) and how much the whole article is about the topic
        (TopicMatch.relevance), most relevant first. Topics with nothing searchable are
        absent; passages not indexed yet are left out."""
        texts: dict[str, str] = {}
        for topic in topics:
            try:
                texts[topic] = clean_question(topic)
            except EmptyQuery:
                continue
        if not texts or not passages:
            return {}
        version = self.version
        ids = [view.passage_id for view in passages]
        with version.reading():
            spelled = [
                version.respell(strip_marks(t), self.model_spellings) for t in texts.values()
            ]
            vectors = self.encoder.encode_queries(spelled)
            scores = [version.dense_scores(vector, ids) for vector in vectors]
        matched: dict[str, list[TopicMatch]] = {}
        for (topic, text), cosines in zip(texts.items(), scores, strict=True):
            terms = question_terms(text)
            best: dict[int, Hit] = {}
            of_article: dict[int, list[float]] = {}
            for view in passages:
                cosine = cosines.get(view.passage_id)
                if cosine is None:  # not indexed yet
                    continue
                hit = self._finish(text, terms, _hit(view, cosine, cosine), 1)
                of_article.setdefault(hit.article_id, []).append(cosine)
                held = best.get(hit.article_id)
                if held is None or (hit.relevance or 0.0) > (held.relevance or 0.0):
                    best[hit.article_id] = hit
            judged = [TopicMatch(hit, float(np.mean(of_article[a]))) for a, hit in best.items()]
            judged.sort(key=lambda m: -m.relevance)
            matched[topic] = [
                replace(m, hit=self._finish(text, terms, m.hit, 1, position=1)) for m in judged
            ]
        return matched

    def _finish(
        self,
        question: str,
        terms: frozenset[str],
        hit: Hit,
        rank: int,
        first_span: tuple[int, int] | None = None,
        position: int | None = None,
    ) -> Hit:
        """A hit as returned: its rank and evidence (`terms` = question_terms(question)); when
        it is to be shown (`position` given) its answer sentence (for the first hit,
        `first_span`) and sentence layout too."""
        shown = position is not None
        span = None
        if position == 0:
            span = first_span
        elif shown:
            span = self._answer(question, hit)
        return replace(
            hit,
            rank=rank,
            answer_span=span,
            sentences=tuple(sentence_layout(hit.text)) if shown else (),
            evidence=None
            if hit.dense_score is None
            else evidence(question, terms, hit.dense_score, hit.title, hit.text),
        )

    def _encode_questions(
        self, version: ServedIndex, texts: dict[int, str], queries: Sequence[Query]
    ) -> dict[int, np.ndarray]:
        """Question vectors of the queries that use the model, in one encoder call (two when
        some are `quantized` and some not). The
        encoder sees a question as the corpus spells it: spelling variants of one question
        embed identically (retrieval/spelling.py)."""
        vectors: dict[int, np.ndarray] = {}
        for quantized in (False, True):
            dense = [
                i
                for i in texts
                if queries[i].mode != "lexical" and bool(queries[i].quantized) == quantized
            ]
            if not dense:
                continue
            spelled = [version.respell(strip_marks(texts[i]), self.model_spellings) for i in dense]
            encoded = (
                self.encoder.encode_queries(spelled, quantized=True)
                if quantized
                else self.encoder.encode_queries(spelled)
            )
            vectors.update(zip(dense, encoded, strict=True))
        return vectors

    def _lexical_ahead(
        self,
        version: ServedIndex,
        texts: dict[int, str],
        queries: Sequence[Query],
        reference: datetime | None,
    ) -> dict[int, Future[Ranked]]:
        """The batch's BM25 searches, started on a thread of their own (`lexical_ahead`) when
        the model has questions to encode meanwhile; {} when it has none (`_rank` then
        searches in this thread)."""
        if all(queries[i].mode == "lexical" for i in texts):
            return {}
        jobs = {
            # n as `_rank` gets it: search_many's recency questions go deeper (_newest_relevant)
            i: (text, RECENT_CANDIDATES if queries[i].recency and reference else CANDIDATES)
            for i, text in texts.items()
            if _searched_mode(text, queries[i].mode) != "dense"
        }
        return lexical_ahead(version, jobs)

    def _rank(
        self,
        version: ServedIndex,
        text: str,
        query_vector: np.ndarray | None,
        mode: Mode,
        n: int = CANDIDATES,
        lexical: Future[Ranked] | None = None,
    ) -> tuple[list[tuple[int, float]], dict[int, float]]:
        """Candidates best first and the dense side's cosines; `lexical`: this question's BM25
        ranking (of `n`), when it was started ahead."""
        dense = version.dense_search(query_vector, n) if query_vector is not None else []
        mode = _searched_mode(text, mode)
        if mode == "dense":
            return dense, dict(dense)

        def search() -> Ranked:
            return version.lexical.search(text, n)

        found = take(lexical, search) if lexical is not None else search()
        return (found if mode == "lexical" else fuse(dense, found)), dict(dense)

    def _assemble(
        self,
        version: ServedIndex,
        ranked: Sequence[tuple[int, float]],
        dense_scores: dict[int, float],
        query_vector: np.ndarray | None,
        wanted: int,
        collapse: bool,
        fold: bool,
    ) -> list[Hit]:
        enough = wanted * 2 + 5  # room for duplicates to fold
        chosen: list[tuple[PassageView, float]] = []
        seen_articles: set[int] = set()
        with self.session_factory() as session:
            for view, score in _views_in_order(session, ranked, enough * 2):
                if collapse and view.article_id in seen_articles:
                    continue
                seen_articles.add(view.article_id)
                chosen.append((view, score))
                if len(chosen) >= enough:
                    break
        if query_vector is not None:
            # lexical-only hits still get a comparable cosine score (once their vectors are
            # served: a passage added moments ago may be answerable by its keywords only)
            missing = [view.passage_id for view, _ in chosen if view.passage_id not in dense_scores]
            dense_scores = dense_scores | version.dense_scores(query_vector, missing)
        hits = [_hit(view, score, dense_scores.get(view.passage_id)) for view, score in chosen]
        if collapse and fold:
            hits = self._fold_duplicates(hits)
        return hits

    # --- the newest news -----------------------------------------------------------------------
    def reference_time(self) -> datetime:
        """The moment "today" means for this corpus: now, or an archive's newest article."""
        with self.session_factory() as session:
            newest = newest_published(session)
        return reference_time(newest, self.clock())

    def _newest_relevant(
        self,
        version: ServedIndex,
        text: str,
        query_vector: np.ndarray | None,
        query: Query,
        recency: Recency,
        reference: datetime,
        lexical: Future[Ranked] | None = None,
    ) -> list[Hit]:
        """A page of a recency question: its relevant hits newest first (recency.newest_first)
        among the topic's best RECENT_POOL articles and the newest articles the model finds
        close enough to be relevant."""
        span = recency.window.span(reference) if recency.window else None
        ranked, dense_scores = self._rank(
            version, text, query_vector, query.mode, RECENT_CANDIDATES, lexical
        )
        wanted = query.offset + query.k
        pool = RECENT_POOL if query_vector is not None else wanted
        hits = self._assemble(
            version, ranked, dense_scores, query_vector, pool, query.collapse, fold=False
        )
        terms = question_terms(text)
        if query_vector is not None:
            hits += self._close_newest(version, text, terms, query_vector, query, span, hits)
        judged = [_judged(h, text, terms, query.min_relevance) for h in hits]
        ordered = newest_first(judged, span, query.min_relevance)[: wanted * 2 + 5]
        if query.collapse and query.fold:
            ordered = self._fold_duplicates(ordered)
        return ordered[query.offset : wanted]

    def _close_newest(
        self,
        version: ServedIndex,
        text: str,
        terms: frozenset[str],
        query_vector: np.ndarray,
        query: Query,
        span: tuple[datetime, datetime] | None,
        found: Sequence[Hit],
    ) -> list[Hit]:
        """The best passage of each of the RECENT_ARTICLES newest articles (in `span`) not
        among `found` whose cosine could make it relevant even with every question term."""
        with self.session_factory() as session:
            views = newest_passages(session, RECENT_ARTICLES, *(span or (None, None)))
        seen = {h.article_id for h in found}
        views = [v for v in views if v.article_id not in seen]
        cosines = version.dense_scores(query_vector, [v.passage_id for v in views])
        arabic = is_arabic(text)
        best: dict[int, Hit] = {}
        for view in views:
            cosine = cosines.get(view.passage_id)
            if cosine is None or not _may_pass(cosine, terms, arabic, query.min_relevance):
                continue
            held = best.get(view.article_id)
            if held is None or (held.dense_score or 0.0) < cosine:
                best[view.article_id] = _hit(view, 0.0, cosine)
        return list(best.values())

    def _newest_articles(self, query: Query, recency: Recency, reference: datetime) -> list[Hit]:
        """A page of the newest articles (those in the window first), each by its first passage:
        the answer to a recency question with no topic («ما آخر الأخبار؟»)."""
        wanted = query.offset + query.k
        enough = wanted * 2 + 5  # room for reprints to fold
        with self.session_factory() as session:
            views = []
            if recency.window is not None:
                views = newest_passages(
                    session, enough, *recency.window.span(reference), first_only=True
                )
            if len(views) < enough:
                views += newest_passages(session, enough, first_only=True)
        unique = list({v.article_id: v for v in views}.values())[:enough]  # first seen order
        hits = [_hit(view, 0.0, None) for view in unique]
        if query.collapse and query.fold:
            hits = self._fold_duplicates(hits)
        return [
            replace(h, rank=query.offset + n + 1, sentences=tuple(sentence_layout(h.text)))
            for n, h in enumerate(hits[query.offset : wanted])
        ]

    def _fold_duplicates(self, hits: list[Hit]) -> list[Hit]:
        """The same story from several outlets becomes one hit listing every source."""
        if len(hits) < 2:
            return hits
        with self.session_factory() as session:
            bodies = article_bodies(session, [h.article_id for h in hits])

        def article_text(i: int) -> str:
            return bodies.get(hits[i].article_id, hits[i].text)

        folded = []
        for members in group_duplicates(len(hits), article_text):
            head, rest = hits[members[0]], [hits[i] for i in members[1:]]
            refs = tuple(h.citation for h in rest)
            folded.append(replace(head, also_in=refs) if refs else head)
        return folded

    def _first_answers(
        self, texts: dict[int, str], vectors: dict[int, np.ndarray], pages: dict[int, list[Hit]]
    ) -> dict[int, tuple[int, int] | None]:
        """The sentence to bold in each first hit. When the words leave it open (the best
        sentences score within TIE_MARGIN) and the question has a vector, the model's cosines
        decide among those: every such sentence of the batch in one encoder call."""
        spans: dict[int, tuple[int, int] | None] = {}
        open_calls: dict[int, list[tuple[int, int]]] = {}
        for i, page in pages.items():
            if not page:
                continue
            hit, text = page[0], texts[i]
            candidates = content_sentences(hit.text)
            if i in vectors and len(candidates) > 1:
                candidates = close_calls(text, hit.text, candidates, hit.title)
            if i in vectors and len(candidates) > 1:
                open_calls[i] = candidates
            else:
                spans[i] = (
                    best_sentence(text, hit.text, candidates, title=hit.title)
                    if candidates
                    else None
                )
        sentences = [
            opening(strip_marks(pages[i][0].text[start:end]))
            for i, candidates in open_calls.items()
            for start, end in candidates
        ]
        if not sentences:
            return spans
        vectors_of = iter(self.encoder.encode_sentences(sentences))
        for i, candidates in open_calls.items():
            hit = pages[i][0]
            cosines = [float(next(vectors_of) @ vectors[i]) for _ in candidates]
            spans[i] = best_sentence(texts[i], hit.text, candidates, cosines, hit.title)
        return spans

    def _answer(self, question: str, hit: Hit) -> tuple[int, int] | None:
        """The sentence to bold in a later hit: by the question's words alone."""
        spans = content_sentences(hit.text)
        return best_sentence(question, hit.text, spans, title=hit.title) if spans else None


def _views_in_order(
    session: Session, ranked: Sequence[tuple[int, float]], chunk: int
) -> Iterator[tuple[PassageView, float]]:
    """(passage, score) in ranked order, read `chunk` passages per query as far down as the
    caller iterates (of ~100 fused candidates a page of three needs the first ~20); passages
    deleted since they were indexed are skipped."""
    for start in range(0, len(ranked), chunk):
        part = ranked[start : start + chunk]
        views = passage_views(session, [pid for pid, _ in part])
        for pid, score in part:
            view = views.get(pid)
            if view is not None:
                yield view, score


def _may_pass(cosine: float, terms: frozenset[str], arabic: bool, min_relevance: float) -> bool:
    """Whether a passage this close to the question could reach `min_relevance`: the gate's
    verdict if it held every question term (the most the words can add)."""
    return Evidence(cosine, 1.0, len(terms), arabic).relevance >= min_relevance


def _judged(hit: Hit, question: str, terms: frozenset[str], min_relevance: float) -> Hit:
    """`hit` with its evidence. The words of one too far from the question to be relevant
    whatever they are go unread (coverage 0): ordering needs only that it is not relevant, and
    the hits returned get their evidence again (`Retriever._finish`)."""
    if hit.dense_score is None:
        return hit
    arabic = is_arabic(question)
    if not _may_pass(hit.dense_score, terms, arabic, min_relevance):
        return replace(hit, evidence=Evidence(hit.dense_score, 0.0, len(terms), arabic))
    return replace(hit, evidence=evidence(question, terms, hit.dense_score, hit.title, hit.text))


def _hit(view: PassageView, score: float, dense_score: float | None) -> Hit:
    return Hit(
        rank=0,
        score=score,
        passage_id=view.passage_id,
        citation=view.citation,
        text=view.text,
        dense_score=dense_score,
    )


def _searched_mode(text: str, mode: Mode) -> Mode:
    """The mode a question is searched in: hybrid questions not in Arabic go dense only. The
    BM25 analyzer is Arabic: on a public set of English questions over Arabic paragraphs fusing
    it in cost 10 points of recall@1. (On this project's 16 English questions,
    benchmarks/gate.py, it gained one: too few to overrule that.)"""
    return "dense" if mode == "hybrid" and not is_arabic(text) else mode
