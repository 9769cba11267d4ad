"""An article page's main text, title and date, with trafilatura. Pure: the HTML is given."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import trafilatura
from trafilatura.deduplication import LRUCache
from trafilatura.settings import Document

from corpus.dates import DateNotUnderstood, parse_date

logger = logging.getLogger(__name__)

# Shorter main text is taken as a failed extraction (a teaser, a consent wall, a photo
# caption) and the caller uses the feed's summary instead: 98.8% of the SaudiNewsNet archive's
# bodies (29,848 articles) are longer, and a feed summary (one or two sentences) says as much.
MIN_TEXT_CHARS: Final = 200
# A paragraph at least half of whose text is a link points to another page («اقرأ أيضاً:
# <a>…</a>» between the article's paragraphs, as many Arabic sites do); trafilatura keeps it
# as prose. Without this, 76 of the 200 pages of
# benchmarks/feed_extraction.py leaked the link's title (all of the layout that has one).
_LINK_PARAGRAPHS: Final = (
    "//p[.//a][string-length(normalize-space(string(.//a))) * 2"
    " >= string-length(normalize-space(.))]"
)
# Dates from markup only (meta tags, JSON-LD, <time datetime>): the extensive search also
# guesses from the page's visible text (a sidebar's, a comment's date) and gained nothing on the
# benchmark pages. The output format keeps time and offset (htmldate's default: the day only).
_DATE_PARAMS: Final = {
    "original_date": True,
    "extensive_search": False,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}


@dataclass(frozen=True)
class Extracted:
    """An article as read from its page: `text` is paragraphs separated by blank lines."""

    title: str | None
    text: str
    published_at: datetime | None  # aware UTC; a date without an offset is read as UTC
    site_name: str | None
    author: str | None


def extract_article(html: str, url: str) -> Extracted | None:
    """The main text of an article page and its metadata; None when the page yields under
    `MIN_TEXT_CHARS` characters of text or cannot be parsed at all. Never raises on bad HTML."""
    try:
        document = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            # Without it a front page of headlines came back as an article, and a one-line
            # article with its share bar and date line (benchmarks/feed_extraction.py --variants).
            favor_precision=True,
            include_comments=False,
            include_tables=True,  # results and figures tables are part of news bodies
            include_images=False,
            include_links=False,
            # Segments repeated within the page go. A fresh cache per page: the default one is
            # process-wide, and a page extracted again and again (re-polled, updated) lost its
            # lines as duplicates, then came back None from the seventh time.
            deduplicate=LRUCache(maxsize=128),
            date_extraction_params=dict(_DATE_PARAMS),
            prune_xpath=_LINK_PARAGRAPHS,
        )
    except Exception as exc:  # lxml and trafilatura raise on hostile markup; the summary remains
        logger.debug("extraction failed for %s: %r", url, exc)
        return None
    if not isinstance(document, Document) or not document.text:
        return None
    title = _one_line(document.title)
    text = _paragraphs(document.text, title)
    if len(text) < MIN_TEXT_CHARS:
        return None
    return Extracted(
        title=title,
        text=text,
        published_at=_date(document.date),
        site_name=_one_line(document.sitename),
        author=_one_line(document.author),
    )


def _paragraphs(text: str, title: str | None) -> str:
    """trafilatura's lines as paragraphs; a first line repeating the title (the page's <h1>)
    goes, the title is stored apart."""
    lines = [" ".join(line.split()) for line in text.split("\n")]
    lines = [line for line in lines if line]
    if lines and title and lines[0] == title:
        lines = lines[1:]
    return "\n\n".join(lines)


def _one_line(value: str | None) -> str | None:
    joined = " ".join((value or "").split())
    return joined or None


def _date(value: str | None) -> datetime | None:
    try:
        return parse_date(value)
    except DateNotUnderstood:
        return None
