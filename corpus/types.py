"""Value types other layers may hold: articles as read, ingest outcomes, citations, counts.

Frozen dataclasses with no I/O, so that `retrieval/` and `bot/` can pass them around without
touching the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# File name endings `corpus.ingest.parse_document` reads.
SUFFIXES = (".jsonl.gz", ".jsonl", ".json", ".txt", ".md")


def supported(name: str) -> bool:
    """Whether a file of this name can be ingested (by its suffix, case-insensitive)."""
    return name.lower().endswith(SUFFIXES)


@dataclass(frozen=True)
class Citation:
    """What a reader needs to find an article again: title, outlet, link, date."""

    article_id: int
    title: str
    source: str | None = None
    url: str | None = None
    published_at: datetime | None = None


@dataclass(frozen=True)
class ArticleView:
    """A stored article as shown in full: its citation and cleaned body."""

    citation: Citation
    body: str


@dataclass(frozen=True)
class Sentence:
    """A sentence of a text, `text[start:end]`, on layout line `line` (0-based) of a `kind`:
    "text", "heading" (a short line without final punctuation), "lead" (a line ending with a
    colon, introducing what follows) or "bullet" (a list item)."""

    start: int
    end: int
    line: int
    kind: str


@dataclass(frozen=True)
class PassageView:
    """A stored passage with the citation of its article."""

    passage_id: int
    ordinal: int
    text: str
    citation: Citation

    @property
    def article_id(self) -> int:
        return self.citation.article_id


@dataclass(frozen=True)
class ArticleRecord:
    """An article as read from a file or typed by an admin, before it is stored."""

    title: str
    body: str
    source: str | None = None
    url: str | None = None
    published_at: datetime | None = None
    external_id: str | None = None
    language: str = "ar"


@dataclass(frozen=True)
class IngestProblem:
    """Something in an input that could not be ingested; the rest still is."""

    path: str
    line: int | None
    reason: str
    # False for a record that was stored all the same, with the faulty field left empty.
    skipped: bool = True

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"

    @property
    def where(self) -> str:
        """`path:line`, or the path alone when the problem is not on one line."""
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True)
class IngestReport:
    """Article ids by outcome, plus the problems met while reading."""

    added: list[int]
    updated: list[int]
    unchanged: list[int]
    problems: list[IngestProblem]
    boilerplate_lines: int = 0  # lines (or glued fragments) dropped as site boilerplate

    @property
    def changed(self) -> bool:
        """True when articles were added or updated (the index needs them)."""
        return bool(self.added or self.updated)

    def summary(self) -> str:
        """One line, e.g. 'added 3, updated 1, unchanged 196, problems 0'."""
        line = (
            f"added {len(self.added)}, updated {len(self.updated)}, "
            f"unchanged {len(self.unchanged)}, problems {len(self.problems)}"
        )
        return line + (
            f", boilerplate lines dropped {self.boilerplate_lines}" * bool(self.boilerplate_lines)
        )


@dataclass(frozen=True)
class CorpusStats:
    """Counts and date range of the stored corpus."""

    articles: int
    passages: int
    sources: list[str]
    first_date: datetime | None
    last_date: datetime | None
