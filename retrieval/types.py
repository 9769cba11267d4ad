"""Value types that cross the retrieval boundary (used by the CLI and the bot)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class SourceRef:
    """Where a (possibly duplicated) story was published."""

    article_id: int
    title: str
    source: str | None
    url: str | None
    published_at: datetime | None


@dataclass(frozen=True)
class Hit:
    """One search result: a passage, its score and the article it cites."""

    rank: int
    score: float
    passage_id: int
    article_id: int
    title: str
    source: str | None
    url: str | None
    published_at: datetime | None
    text: str
    # Cosine similarity of question and passage: comparable across questions (thresholds).
    dense_score: float | None = None
    # Character span [start, end) inside `text` of the sentence that best answers the question.
    answer_span: tuple[int, int] | None = None
    # Other articles carrying a near-identical passage (same story, other outlets).
    also_in: tuple[SourceRef, ...] = field(default_factory=tuple)

    @property
    def answer_sentence(self) -> str | None:
        """The highlighted sentence, if one was chosen."""
        if self.answer_span is None:
            return None
        start, end = self.answer_span
        return self.text[start:end]
