"""A local news site for tests and benchmarks: the demo articles as pages (feedsite_pages.py),
RSS 2.0 / Atom / RDF feeds (feedsite_feeds.py) with ETag and Last-Modified, and broken cases
at fixed paths (`BROKEN_CASES`). Standard library only; serves on 127.0.0.1 from a daemon thread.

    with FeedSite() as site:
        url = site.add_feed("local", [a.slug for a in site.articles[:5]], fmt="atom")
        site.publish("local", site.articles[9].slug)  # the next poll sees a new item
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.feedsite_feeds import Item, render_feed
from tests.feedsite_pages import DemoArticle, Page, load_articles, render_index, render_page

HUGE_BYTES = 50 * 2**20
CHUNK_BYTES = 64 * 2**10
THIN_TEXT = "تابعونا لمزيد من التفاصيل."
HTML = "text/html; charset=utf-8"
CONTENT_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "rdf": "application/rdf+xml; charset=utf-8",
}
LEGACY_CHARSETS = {"/broken/cp1256.html": "windows-1256", "/broken/iso8859-6.html": "iso-8859-6"}
BROKEN_CASES = {
    "/broken/truncated.rss": "malformed XML: an RSS feed cut off inside its third item's title",
    "/broken/html.rss": "an HTML front page where a feed should be (text/html)",
    "/broken/missing.rss": "HTTP 404",
    "/broken/error.rss": "HTTP 500",
    "/broken/slow.rss": "a valid RSS feed sent after `FeedSite.delay` seconds",
    "/broken/slow.html": "an article page sent after `FeedSite.delay` seconds",
    "/broken/old.rss": "301 (absolute Location) to /broken/moved.rss, a valid RSS feed",
    "/broken/moved.rss": "the feed /broken/old.rss moved to",
    "/broken/chain.html": "302 -> /broken/chain-2.html -> 301 -> the first article (relative)",
    "/broken/loop.html": "302 to itself, forever",
    "/broken/huge.html": "a 50 MB page with Content-Length, generated while it is sent",
    "/broken/huge-chunked.html": "a 50 MB page, chunked, no Content-Length",
    "/broken/cp1256.html": "an article page in windows-1256, the charset in the header only",
    "/broken/iso8859-6.html": "an article page in ISO-8859-6, the charset in a <meta> only",
    "/broken/duplicates.rss": "one link twice; one story again with ?utm_source&utm_medium#frag",
    "/broken/no-dates.rss": "items without pubDate",
    "/broken/no-titles.rss": "items without title",
    "/broken/dead-link.rss": "an item whose page is 404 (the poller falls back to the summary)",
    "/broken/thin.rss": "an item whose page has almost no article text (-> the summary)",
    "/broken/thin.html": "the full page chrome around a one-sentence article",
    "/broken/empty.rss": "a valid RSS feed without items",
    "/broken/relative.rss": "item links relative to the site (/news/…)",
    "/broken/relative.atom": "item links relative to the entries' xml:base",
}


@dataclass
class _Feed:
    fmt: str
    slugs: list[str]  # newest first
    version: int
    modified: datetime


class FeedSite:
    """The site; a context manager that serves while open. `requests` records every request
    as (method, path with query, headers with lower-case names)."""

    def __init__(self, articles: Sequence[DemoArticle] | None = None, delay: float = 2.0):
        self.articles = list(articles) if articles is not None else load_articles()
        self.delay = delay
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._by_slug = {a.slug: n for n, a in enumerate(self.articles)}
        self._feeds: dict[str, _Feed] = {}
        self._lock = threading.Lock()
        self._server: _Server | None = None

    def __enter__(self) -> FeedSite:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.site = self
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "FeedSite is served only inside `with`"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def add_feed(self, name: str, slugs: Sequence[str], fmt: str = "rss") -> str:
        """Serve the articles `slugs` (newest first) at /feeds/<name>.<fmt>; returns its URL."""
        if fmt not in CONTENT_TYPES:
            raise ValueError(f"fmt must be one of {sorted(CONTENT_TYPES)}")
        with self._lock:
            self._feeds[name] = _Feed(fmt, [self.article(s).slug for s in slugs], 1, _now())
        return self.url(f"/feeds/{name}.{fmt}")

    def publish(self, name: str, slug: str) -> None:
        """Put the article `slug` on top of feed `name`: a new ETag and Last-Modified."""
        with self._lock:
            feed = self._feeds[name]
            feed.slugs.insert(0, self.article(slug).slug)
            feed.version += 1
            # Last-Modified has whole seconds: a change within the second of the previous one
            # must still move it, or If-Modified-Since would hide the new item.
            feed.modified = max(_now(), feed.modified + timedelta(seconds=1))

    def article(self, slug: str) -> DemoArticle:
        return self.articles[self._by_slug[slug]]

    def page(self, slug: str, charset: str | None = "utf-8") -> Page:
        """The article's page as served at /news/<slug>.html, with its clutter strings."""
        n = self._by_slug[slug]
        others = [self.articles[(n + k) % len(self.articles)] for k in range(1, 5)]
        return render_page(self.articles[n], others, charset)

    def clutter_of(self, slug: str) -> list[str]:
        """The strings of the page around the article: none may end up in extracted text."""
        return list(self.page(slug).clutter)

    def legacy_article(self, path: str) -> DemoArticle:
        """The article of a legacy-charset page: the first whose text that charset can hold."""
        charset = LEGACY_CHARSETS[path]
        for article in self.articles:
            try:
                f"{article.title}{article.body}".encode(charset)
            except UnicodeEncodeError:
                continue
            return article
        raise LookupError(f"no article fits {charset}")

    def item(self, article: DemoArticle, **changes: Any) -> Item:
        """The feed item of an article, with `changes` to its fields."""
        link = self.url(f"/news/{article.slug}.html")
        item = Item(
            link, article.title, article.summary, article.published, f"urn:x:{article.slug}"
        )
        return replace(item, **changes)

    def _serve(self, h: _Handler, path: str) -> None:
        slug = path.removeprefix("/news/").removesuffix(".html")
        if path.startswith("/feeds/"):
            self._serve_feed(h, path)
        elif path == f"/news/{slug}.html" and slug in self._by_slug:
            _send(h, 200, self.page(slug).html.encode(), HTML)
        elif path == "/":
            _send(h, 200, render_index(self.articles[:20]).encode(), HTML)
        elif not self._serve_case(h, path):
            _send(h, 404, "<h1>عذراً، الصفحة المطلوبة غير موجودة</h1>".encode(), HTML)

    def _serve_feed(self, h: _Handler, path: str) -> None:
        name, _, fmt = path.removeprefix("/feeds/").rpartition(".")
        with self._lock:
            feed = self._feeds.get(name)
            if feed is None or feed.fmt != fmt:
                _send(h, 404, b"no such feed", "text/plain")
                return
            etag, modified, slugs = f'"{name}-{feed.version}"', feed.modified, list(feed.slugs)
        headers = {"ETag": etag, "Last-Modified": format_datetime(modified, usegmt=True)}
        if _not_modified(h.headers, etag, modified):
            _send(h, 304, b"", None, headers)
            return
        items = [self.item(self.article(s)) for s in slugs]
        _send(h, 200, self._feed(fmt, name, items), CONTENT_TYPES[fmt], headers)

    def _feed(self, fmt: str, name: str, items: Sequence[Item], xml_base: str = "") -> bytes:
        return render_feed(fmt, f"سند — {name}", self.url("/"), items, xml_base)

    def _serve_case(self, h: _Handler, path: str) -> bool:
        a, rss = self.articles, CONTENT_TYPES["rss"]
        match path:
            case "/broken/truncated.rss":
                body = self._feed("rss", "truncated", [self.item(x) for x in a[:3]])
                _send(h, 200, body[: body.rindex(b"</title>")], rss)
            case "/broken/html.rss":
                _send(h, 200, render_index(a[:10]).encode(), HTML)
            case "/broken/missing.rss":
                _send(h, 404, b"not found", "text/plain")
            case "/broken/error.rss":
                _send(h, 500, b"internal server error", "text/plain")
            case "/broken/slow.rss" | "/broken/moved.rss":
                if path == "/broken/slow.rss":
                    time.sleep(self.delay)
                _send(h, 200, self._feed("rss", path, [self.item(x) for x in a[:5]]), rss)
            case "/broken/slow.html":
                time.sleep(self.delay)
                _send(h, 200, self.page(a[0].slug).html.encode(), HTML)
            case "/broken/old.rss":
                _redirect(h, 301, self.url("/broken/moved.rss"))
            case "/broken/chain.html":
                _redirect(h, 302, "/broken/chain-2.html")
            case "/broken/chain-2.html":
                _redirect(h, 301, f"/news/{a[0].slug}.html")
            case "/broken/loop.html":
                _redirect(h, 302, "/broken/loop.html")
            case "/broken/huge.html" | "/broken/huge-chunked.html":
                _send_huge(h, chunked=path == "/broken/huge-chunked.html")
            case "/broken/cp1256.html" | "/broken/iso8859-6.html":
                charset = LEGACY_CHARSETS[path]
                meta = None if charset == "windows-1256" else charset
                page = self.page(self.legacy_article(path).slug, meta).html
                header = "text/html" if meta else f"text/html; charset={charset}"
                _send(h, 200, page.encode(charset, "xmlcharrefreplace"), header)
            case "/broken/duplicates.rss":
                tracked = self.item(a[1]).link + "?utm_source=rss&utm_medium=feed#comments"
                items = [self.item(a[0]), self.item(a[0]), self.item(a[1])]
                items.append(self.item(a[1], link=tracked, guid=tracked))
                _send(h, 200, self._feed("rss", "duplicates", items), rss)
            case "/broken/no-dates.rss" | "/broken/no-titles.rss":
                field = "published" if path == "/broken/no-dates.rss" else "title"
                items = [self.item(x, **{field: None}) for x in a[:3]]
                _send(h, 200, self._feed("rss", path, items), rss)
            case "/broken/dead-link.rss" | "/broken/thin.rss":
                gone = path == "/broken/dead-link.rss"
                link = self.url("/news/removed-story.html" if gone else "/broken/thin.html")
                items = [self.item(a[1], link=link, guid=link), self.item(a[2])]
                _send(h, 200, self._feed("rss", path, items), rss)
            case "/broken/thin.html":
                thin = replace(a[1], paragraphs=(THIN_TEXT,))
                _send(h, 200, render_page(thin, a[2:6]).html.encode(), HTML)
            case "/broken/empty.rss":
                _send(h, 200, self._feed("rss", "empty", []), rss)
            case "/broken/relative.rss":
                items = [self.item(x, link=f"/news/{x.slug}.html") for x in a[:3]]
                _send(h, 200, self._feed("rss", "relative", items), rss)
            case "/broken/relative.atom":
                items = [self.item(x, link=f"{x.slug}.html") for x in a[:3]]
                body = self._feed("atom", "relative", items, xml_base=self.url("/news/"))
                _send(h, 200, body, CONTENT_TYPES["atom"])
            case _:
                return False
        return True


class _Server(ThreadingHTTPServer):
    site: FeedSite

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client gave up first (a timeout under test): not the server's fault
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked transfer, like real servers

    def do_GET(self) -> None:
        assert isinstance(self.server, _Server)
        site = self.server.site
        headers = {name.lower(): value for name, value in self.headers.items()}
        site.requests.append((self.command, self.path, headers))
        try:
            site._serve(self, self.path.split("?", 1)[0].split("#", 1)[0])
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client stopped reading (a size limit)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests read `FeedSite.requests`, not stderr


def _send(
    h: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    content_type: str | None,
    headers: Mapping[str, str] | None = None,
) -> None:
    h.send_response(status)
    if content_type:
        h.send_header("Content-Type", content_type)
    for name, value in (headers or {}).items():
        h.send_header(name, value)
    if status != 304:
        h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def _redirect(h: BaseHTTPRequestHandler, status: int, location: str) -> None:
    _send(h, status, b"", None, {"Location": location})


def _send_huge(h: BaseHTTPRequestHandler, chunked: bool) -> None:
    h.send_response(200)
    h.send_header("Content-Type", HTML)
    if chunked:
        h.send_header("Transfer-Encoding", "chunked")
    else:
        h.send_header("Content-Length", str(HUGE_BYTES))
    h.end_headers()
    for piece in _huge_pieces():
        h.wfile.write(b"%X\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
    if chunked:
        h.wfile.write(b"0\r\n\r\n")


def _huge_pieces() -> Iterator[bytes]:
    """`HUGE_BYTES` of one endless article, `CHUNK_BYTES` at a time."""
    head = b'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><article>'
    paragraph = ("<p>" + "نص طويل جداً يتكرر بلا نهاية. " * 40 + "</p>\n").encode()
    piece = paragraph * (CHUNK_BYTES // len(paragraph) + 1)
    yield head
    sent = len(head)
    while sent < HUGE_BYTES:
        chunk = piece[: min(CHUNK_BYTES, HUGE_BYTES - sent)]
        sent += len(chunk)
        yield chunk


def _not_modified(headers: Message, etag: str, modified: datetime) -> bool:
    """RFC 9110: If-None-Match decides when present; else If-Modified-Since."""
    if (match := headers.get("If-None-Match")) is not None:
        return match.strip() == "*" or etag in (tag.strip() for tag in match.split(","))
    if (since := headers.get("If-Modified-Since")) is None:
        return False
    try:
        return modified <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
