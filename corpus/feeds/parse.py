"""RSS 2.0, Atom and RDF (RSS 1.0) documents to entries, with feedparser. Pure: never fetches."""

from __future__ import annotations

import calendar
import io
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from feedparser.exceptions import NonXMLContentType


class FeedError(Exception):
    """The document is no feed, or a malformed one without a single entry: an English reason."""


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed; `link` absolute (http/https), `summary` plain text ("" if none)."""

    link: str
    title: str | None
    summary: str
    published_at: datetime | None  # aware UTC
    guid: str | None


@dataclass(frozen=True)
class ParsedFeed:
    """A feed's title and entries in document order (duplicates kept), and what was wrong with
    the document when entries could still be read (feedparser's bozo reason, skipped entries)."""

    title: str | None
    entries: tuple[FeedEntry, ...]
    warning: str | None


def parse_feed(content: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse a fetched feed; `url` (after redirects) resolves relative links, `content_type`
    (the response header) tells the charset. Raises FeedError when no feed can be read."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    # A BytesIO, never bytes or str: feedparser opens URLs and file paths it is given.
    parsed = feedparser.parse(io.BytesIO(content), response_headers=headers)
    reason = _bozo_reason(parsed, content_type)
    if not parsed.entries:
        if not parsed.get("version"):
            if _looks_like_html(content, content_type):
                raise FeedError("not a feed: the address serves a web page (HTML)")
            raise FeedError(f"not a feed: {reason or _empty_reason(content)}")
        if reason:
            raise FeedError(f"no entries in a malformed feed: {reason}")
    entries = []
    for raw in parsed.entries:
        entry = _entry(raw, url)
        if entry is not None:
            entries.append(entry)
    problems = [reason] if reason else []
    if skipped := len(parsed.entries) - len(entries):
        problems.append(f"{skipped} of {len(parsed.entries)} entries without an http(s) link")
    title = _text(parsed.feed.get("title_detail"), parsed.feed.get("title"))
    return ParsedFeed(title or None, tuple(entries), "; ".join(problems) or None)


def _bozo_reason(parsed: Any, content_type: str | None) -> str | None:
    if not parsed.get("bozo"):
        return None
    exc = parsed.get("bozo_exception")
    if content_type is None and isinstance(exc, NonXMLContentType):
        return None  # "no Content-type specified": the caller said so
    return f"{type(exc).__name__}: {exc}" if exc is not None else "malformed document"


def _looks_like_html(content: bytes, content_type: str | None) -> bool:
    """A web page where a feed was expected (the site's front page, an error page)."""
    if content_type and content_type.split(";")[0].strip().lower() in (
        "text/html",
        "application/xhtml+xml",
    ):
        return True
    head = content[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def _empty_reason(content: bytes) -> str:
    if not content.strip():
        return "empty document"
    return "no RSS, Atom or RDF root element"


def _entry(raw: Any, feed_url: str) -> FeedEntry | None:
    link = (raw.get("link") or "").strip()
    if not link:
        return None
    link = urljoin(feed_url, link)  # feedparser resolves most; xml:base-less RDF may not
    if urlsplit(link).scheme not in ("http", "https"):
        return None
    summary_detail = raw.get("summary_detail")
    summary = raw.get("summary")
    if not summary and raw.get("content"):  # Atom entries with <content> only
        summary_detail = raw["content"][0]
        summary = summary_detail.get("value")
    title = _text(raw.get("title_detail"), raw.get("title"))
    guid = (raw.get("id") or "").strip()
    return FeedEntry(
        link=link,
        title=title or None,
        summary=_text(summary_detail, summary),
        published_at=_when(raw.get("published_parsed") or raw.get("updated_parsed")),
        guid=guid or None,
    )


def _text(detail: Any, value: str | None) -> str:
    """Plain text of a feed field: HTML (by its declared type) stripped, whitespace tidied."""
    if not value:
        return ""
    kind = (detail or {}).get("type", "text/html")
    if kind in ("text/html", "application/xhtml+xml"):
        return html_to_text(value)
    return "\n\n".join(" ".join(p.split()) for p in value.split("\n\n") if p.strip())


def _when(parsed: time.struct_time | None) -> datetime | None:
    """feedparser's dates are UTC struct_time."""
    if parsed is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError, OSError):
        return None


def html_to_text(fragment: str) -> str:
    """Text of an HTML fragment: paragraphs (block elements) separated by blank lines, other
    whitespace collapsed; script and style dropped."""
    parser = _TextParser()
    parser.feed(fragment)
    parser.close()
    blocks = "".join(parser.parts).split("\n\n")
    return "\n\n".join(" ".join(b.split()) for b in blocks if b.strip())


class _TextParser(HTMLParser):
    # fmt: off
    _BLOCKS = frozenset({
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
        "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "ol", "p",
        "pre", "section", "table", "td", "th", "tr", "ul",
    })
    # fmt: on
    _HIDDEN = frozenset({"script", "style", "template", "noscript"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)
