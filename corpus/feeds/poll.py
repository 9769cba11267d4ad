"""One poll of one feed: fetch it (conditionally), parse it, fetch each new story's page and
extract its text, and turn the stories into article records. Network only: storing the
records and indexing them is the caller's (`retrieval.feeds.poll_feeds`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Literal

from corpus.feeds.extract import extract_article
from corpus.feeds.fetch import ACCEPT_FEED, FetchError, FetchLimits, decode_html, fetch
from corpus.feeds.parse import FeedEntry, FeedError, parse_feed
from corpus.feeds.urls import canonical_url, is_http_url
from corpus.split import clean_text
from corpus.types import ArticleRecord

# New stories taken from one poll of one feed; the rest wait for the next poll. A news feed
# lists 10-50 items; this bounds what one poll fetches (each page: FetchLimits).
MAX_ITEMS: Final = 50
# The feed's own summary stands in for a page that could not be read when it has at least
# this many characters (a headline-only teaser is not worth answering from).
MIN_SUMMARY_CHARS: Final = 80
TITLE_CHARS: Final = 120  # a title made from the text, for items that have none
MAX_BACKOFF: Final = timedelta(hours=24)

Outcome = Literal["page", "summary", "failed"]


@dataclass(frozen=True)
class Story:
    """One new item of a feed and what became of it."""

    url: str  # canonical
    outcome: Outcome
    error: str | None  # why the page was not used ("page" has none)
    record: ArticleRecord | None  # None when failed


@dataclass(frozen=True)
class Polled:
    """What one poll found. `error` set: the feed itself failed (nothing else happened)."""

    entries: int = 0  # items listed in the feed
    stories: list[Story] = field(default_factory=list)  # the new ones, in feed order
    error: str | None = None
    warning: str | None = None  # the feed parsed with problems (e.g. malformed XML)
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None


def poll(
    url: str,
    name: str,
    known: Callable[[Sequence[str]], set[str]],
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    limits: FetchLimits,
    now: datetime,
    max_items: int = MAX_ITEMS,
) -> Polled:
    """Poll the feed at `url` (outlet `name`); `known(urls)` says which canonical story URLs
    were met before. Never raises for what a remote server does: failures are in the result."""
    try:
        got = fetch(url, etag=etag, last_modified=last_modified, limits=limits, accept=ACCEPT_FEED)
    except FetchError as exc:
        return Polled(error=str(exc), etag=etag, last_modified=last_modified)
    if got.not_modified:
        return Polled(not_modified=True, etag=got.etag or etag, last_modified=last_modified)
    try:
        parsed = parse_feed(got.content, got.url, got.content_type)
    except FeedError as exc:
        return Polled(error=str(exc))
    entries = _new_entries(parsed.entries, known)
    stories = [_story(entry, link, name, limits, now) for link, entry in entries[:max_items]]
    return Polled(
        entries=len(parsed.entries),
        stories=stories,
        warning=parsed.warning,
        etag=got.etag,
        last_modified=got.last_modified,
    )


def _new_entries(
    entries: Sequence[FeedEntry], known: Callable[[Sequence[str]], set[str]]
) -> list[tuple[str, FeedEntry]]:
    """(canonical URL, entry) of the stories not met before, each once, in feed order."""
    by_url: dict[str, FeedEntry] = {}
    for entry in entries:
        if is_http_url(entry.link):
            by_url.setdefault(canonical_url(entry.link), entry)
    seen = known(list(by_url))
    return [(link, entry) for link, entry in by_url.items() if link not in seen]


def _story(entry: FeedEntry, link: str, name: str, limits: FetchLimits, now: datetime) -> Story:
    """The article of one entry: its page's main text, else the feed's summary."""
    title, text, published, error = entry.title, None, entry.published_at, None
    try:
        page = fetch(entry.link, limits=limits)
        extracted = extract_article(decode_html(page.content, page.content_type), page.url)
        if extracted is None:
            error = "no article text found on the page"
        else:
            text = extracted.text
            title = title or extracted.title
            published = published or extracted.published_at
    except FetchError as exc:
        error = f"page: {exc}"
    outcome: Outcome = "page"
    if text is None:
        summary = clean_text(entry.summary or "")
        if len(summary) < MIN_SUMMARY_CHARS:
            return Story(link, "failed", error, None)
        text, outcome = summary, "summary"
    title = clean_text(title or "") or _title_from(text)
    # An item without a date is dated when first seen: a live feed's items are recent.
    record = ArticleRecord(
        title=title, body=text, source=name, url=link, published_at=published or now
    )
    return Story(link, outcome, error, record)


def _title_from(text: str) -> str:
    first = clean_text(text).split("\n", 1)[0]
    if len(first) <= TITLE_CHARS:
        return first
    return first[:TITLE_CHARS].rsplit(" ", 1)[0] + "…"


def next_poll(now: datetime, failures: int, interval: timedelta) -> datetime | None:
    """When a feed is next due: at the next round after a success (None); after `failures`
    failures in a row, 2**failures intervals later, at most MAX_BACKOFF."""
    if failures <= 0:
        return None
    return now + min(interval * 2**failures, MAX_BACKOFF)
