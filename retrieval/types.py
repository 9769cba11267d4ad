"""Value types that cross the retrieval boundary (used by the CLI and the bot).

The corpus's value types are re-exported here, so that callers of `Library` import them from
one place and never reach into `corpus/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from corpus.types import (
    ArticleRecord,
    ArticleView,
    Citation,
    CorpusStats,
    IngestProblem,
    IngestReport,
    Sentence,
    supported,
)
from retrieval.gate import Evidence, about_topic

__all__ = [
    "ArticleRecord",
    "ArticleView",
    "BuildReport",
    "Citation",
    "CorpusStats",
    "Hit",
    "IngestProblem",
    "IngestReport",
    "LibraryStats",
    "PrepareReport",
    "Sentence",
    "TopicMatch",
    "supported",
]


@dataclass(frozen=True)
class Hit:
    """One search result: a passage, its score and the citation of its article."""

    rank: int
    score: float
    passage_id: int
    citation: Citation
    text: str
    # Cosine similarity of question and passage: comparable across questions (thresholds).
    dense_score: float | None = None
    # Character span [start, end) inside `text` of the sentence that best answers the question.
    answer_span: tuple[int, int] | None = None
    # Other articles carrying a near-identical passage (same story, other outlets).
    also_in: tuple[Citation, ...] = field(default_factory=tuple)
    # What the answer gate weighs (retrieval/gate.py); None without a dense score.
    evidence: Evidence | None = None
    # The sentences of `text` with their layout (lists, lead-ins): what excerpts are cut from.
    sentences: tuple[Sentence, ...] = ()

    @property
    def relevance(self) -> float | None:
        """Probability (0-1) that this hit answers the question; None in lexical-only mode."""
        return self.evidence.relevance if self.evidence is not None else None

    def passes(self, min_relevance: float) -> bool:
        """Whether the hit may be shown as an answer: its relevance reaches `min_relevance`
        (without one, in lexical-only search, it is shown as ranked)."""
        return self.relevance is None or self.relevance >= min_relevance

    @property
    def article_id(self) -> int:
        return self.citation.article_id

    @property
    def title(self) -> str:
        return self.citation.title

    @property
    def source(self) -> str | None:
        return self.citation.source

    @property
    def url(self) -> str | None:
        return self.citation.url

    @property
    def published_at(self) -> datetime | None:
        return self.citation.published_at

    @property
    def answer_sentence(self) -> str | None:
        """The highlighted sentence, if one was chosen."""
        if self.answer_span is None:
            return None
        start, end = self.answer_span
        return self.text[start:end]


@dataclass(frozen=True)
class BuildReport:
    """What one index build did; `seconds` is wall time."""

    version: str
    passages: int
    embedded: int
    reused: int
    seconds: float
    removed: int = 0  # passages that left the index
    added: int = 0  # passages newly indexed (lexically at once; `embedded` + `reused` vectors)

    def summary(self) -> str:
        """One line: version, passages, added, removed, embedded, reused, seconds, passages/s."""
        rate = self.embedded / self.seconds if self.seconds and self.embedded else 0.0
        return (
            f"index {self.version}: {self.passages} passages ({self.added} added, "
            f"{self.removed} removed), {self.embedded} embedded, {self.reused} reused, "
            f"{self.seconds:.1f} s ({rate:.1f} passages/s)"
        )


@dataclass(frozen=True)
class LibraryStats:
    """The corpus counts and the state of the index being served."""

    corpus: CorpusStats
    index_version: str | None
    index_built_at: str | None
    index_passages: int
    index_stale: bool


@dataclass(frozen=True)
class PrepareReport:
    """What `Library.prepare` did to make the library ready to answer."""

    ingested: IngestReport | None  # the bundled corpus, on first run
    rebuilt_because: str | None  # why a bad index was rebuilt from scratch
    build: BuildReport | None  # the build that brought the index up to date

    def lines(self) -> list[str]:
        """Human-readable lines for a terminal or a log."""
        out = []
        if self.ingested is not None:
            out.append(f"bundled corpus: {self.ingested.summary()}")
        if self.rebuilt_because is not None:
            out.append(f"rebuilding the index: {self.rebuilt_because}")
        if self.build is not None:
            out.append(self.build.summary())
        return out


@dataclass(frozen=True)
class TopicMatch:
    """A new article judged against a followed topic: its best passage as a shown hit, and
    the mean cosine similarity of the topic and all of the article's passages."""

    hit: Hit
    mean_cosine: float

    @property
    def relevance(self) -> float:
        """Probability (0-1) that the article is about the topic (retrieval.gate.about_topic)."""
        return about_topic(self.hit.relevance or 0.0, self.mean_cosine)
