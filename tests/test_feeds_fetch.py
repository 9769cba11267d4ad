"""corpus.feeds.fetch against a real HTTP server on 127.0.0.1, and the SSRF guard's policy."""

from __future__ import annotations

import functools
import gzip
import ipaddress
import socket
import sys
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from corpus.feeds.fetch import (
    USER_AGENT,
    FetchError,
    FetchLimits,
    decode_html,
    fetch,
)
from corpus.feeds.guard import Blocked, address_kind, check_address

LOCAL = FetchLimits(allow_private=True)  # the test server is on 127.0.0.1
ARTICLE = (
    "أعلنت وزارة الصحة اليوم افتتاح مستشفى جديد في مدينة الرياض، وقال المتحدث الرسمي"
    " إن المستشفى سيخدم أكثر من مليون مواطن في المنطقة."
)
ETAG = '"v1"'
LAST_MODIFIED = "Wed, 01 Jan 2025 10:00:00 GMT"
MIB = 2**20


def page(meta: str = "") -> str:
    return (
        f"<!DOCTYPE html><html><head>{meta}<title>خبر</title></head>"
        f"<body><h1>مستشفى جديد</h1><p>{ARTICLE}</p></body></html>"
    )


@functools.cache
def gzip_bomb() -> bytes:
    """32 MiB of zeros in ~32 KB of gzip."""
    return gzip.compress(bytes(32 * MIB), compresslevel=9)


@dataclass
class Site:
    """What the server saw: requests (path, headers), TCP connections, bytes a stream got out."""

    port: int
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    connections: int = 0
    streamed: int = 0
    stream_done: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


class Handler(BaseHTTPRequestHandler):
    site: Site  # set on the subclass the fixture builds

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep pytest output clean

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def stream(self, total: int, chunk: int = 64 * 1024, pause: float = 0.0) -> None:
        """Send total zero bytes without Content-Length, counting what got out."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        try:
            while self.site.streamed < total:
                self.wfile.write(bytes(chunk))
                self.wfile.flush()
                self.site.streamed += chunk
                time.sleep(pause)
        except OSError:
            pass  # the client hung up, which is the point
        finally:
            self.site.stream_done.set()

    def do_GET(self) -> None:
        self.site.requests.append((self.path, dict(self.headers)))
        route = ROUTES.get(self.path.split("?")[0])
        if route is None:
            self.reply(404, b"not found")
        else:
            route(self)


def _page(h: Handler) -> None:
    if h.headers.get("If-None-Match") == ETAG:
        h.reply(304, headers={"ETag": ETAG})  # no Last-Modified: the client keeps its own
    else:
        headers = {"ETag": ETAG, "Last-Modified": LAST_MODIFIED}
        h.reply(200, page().encode(), {**headers, "Content-Type": "text/html; charset=utf-8"})


def _slow(h: Handler) -> None:
    time.sleep(2)
    h.reply(200, b"late")


def _arabic(encoding: str, content_type: str, meta: str = "") -> Callable[[Handler], None]:
    return lambda h: h.reply(200, page(meta).encode(encoding), {"Content-Type": content_type})


ROUTES: dict[str, Callable[[Handler], None]] = {
    "/page": _page,
    "/500": lambda h: h.reply(500, b"boom"),
    "/slow": _slow,
    "/drip": lambda h: h.stream(100, chunk=1, pause=0.05),
    "/r3": lambda h: h.reply(301, headers={"Location": "/r2"}),
    "/r2": lambda h: h.reply(302, headers={"Location": f"http://127.0.0.1:{h.site.port}/r1"}),
    "/r1": lambda h: h.reply(307, headers={"Location": "/page?from=r1"}),
    "/loop": lambda h: h.reply(302, headers={"Location": "/loop"}),
    "/to-ftp": lambda h: h.reply(302, headers={"Location": "ftp://127.0.0.1/feed.xml"}),
    "/to-other-loopback": lambda h: h.reply(
        302, headers={"Location": f"http://127.0.0.2:{h.site.port}/page"}
    ),
    "/big": lambda h: h.stream(6 * MIB),
    "/huge": lambda h: h.stream(200 * MIB),
    "/declared-big": lambda h: h.reply(200, bytes(6 * MIB)),
    "/gzip": lambda h: h.reply(200, gzip.compress(page().encode()), {"Content-Encoding": "gzip"}),
    "/deflate": lambda h: h.reply(
        200, zlib.compress(page().encode()), {"Content-Encoding": "deflate"}
    ),
    "/bomb": lambda h: h.reply(200, gzip_bomb(), {"Content-Encoding": "gzip"}),
    "/brotli": lambda h: h.reply(200, b"\x0b\x02\x80hello\x03", {"Content-Encoding": "br"}),
    "/cp1256-header": _arabic("cp1256", "text/html; charset=windows-1256"),
    "/cp1256-meta": _arabic("cp1256", "text/html", '<meta charset="windows-1256">'),
    "/cp1256-none": _arabic("cp1256", "text/html"),
    "/iso-meta": _arabic(
        "iso8859_6",
        "text/html",
        '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-6">',
    ),
    "/iso-none": _arabic("iso8859_6", "text/html"),
}


class Server(ThreadingHTTPServer):
    daemon_threads = True  # a handler still sleeping in /slow must not hold up shutdown
    site: Site

    def process_request(self, request: object, client_address: object) -> None:
        self.site.connections += 1
        super().process_request(request, client_address)  # type: ignore[arg-type]

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client gave up first (a timeout under test): not the server's fault
        super().handle_error(request, client_address)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    httpd = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def site(server: Server) -> Site:
    """A fresh record of what the server saw, for one test."""
    fresh = Site(port=server.server_address[1])
    server.site = Handler.site = fresh
    return fresh


# --- HTTP behaviour --------------------------------------------------------------------------


def test_ok_then_not_modified_with_the_conditional_headers_sent(site: Site) -> None:
    first = fetch(site.url("/page"), limits=LOCAL)
    assert (first.status, first.not_modified) == (200, False)
    assert decode_html(first.content, first.content_type) == page()
    assert (first.etag, first.last_modified) == (ETAG, LAST_MODIFIED)
    assert first.content_type == "text/html; charset=utf-8"

    again = fetch(
        site.url("/page"), etag=first.etag, last_modified=first.last_modified, limits=LOCAL
    )
    assert (again.status, again.not_modified, again.content) == (304, True, b"")
    # The 304 repeated the ETag but not Last-Modified: both survive for the next poll.
    assert (again.etag, again.last_modified) == (ETAG, LAST_MODIFIED)

    sent = [headers for _, headers in site.requests]
    assert "If-None-Match" not in sent[0] and "If-Modified-Since" not in sent[0]
    assert sent[1]["If-None-Match"] == ETAG
    assert sent[1]["If-Modified-Since"] == LAST_MODIFIED
    assert sent[0]["User-Agent"] == USER_AGENT
    assert sent[0]["Accept-Encoding"] == "gzip, deflate"


@pytest.mark.parametrize(("path", "reason"), [("/missing", "HTTP 404"), ("/500", "HTTP 500")])
def test_error_statuses_become_short_reasons(site: Site, path: str, reason: str) -> None:
    with pytest.raises(FetchError) as caught:
        fetch(site.url(path), limits=LOCAL)
    assert str(caught.value) == reason


def test_a_slow_server_times_out(site: Site) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        fetch(site.url("/slow"), limits=FetchLimits(allow_private=True, timeout_s=0.3))
    assert str(caught.value) == "timed out after 0.3 s"
    assert time.monotonic() - started < 1.5


def test_a_dripping_server_hits_the_total_deadline(site: Site) -> None:
    # Each byte arrives well within the read timeout; only the whole-fetch deadline stops it.
    limits = FetchLimits(allow_private=True, timeout_s=2, total_s=0.5)
    with pytest.raises(FetchError, match=r"^timed out after 0.5 s$"):
        fetch(site.url("/drip"), limits=limits)
    assert site.streamed < 100


def test_redirects_are_followed_and_the_final_url_reported(site: Site) -> None:
    fetched = fetch(site.url("/r3"), limits=LOCAL)
    assert fetched.status == 200
    assert fetched.url == site.url("/page?from=r1")
    assert [path for path, _ in site.requests] == ["/r3", "/r2", "/r1", "/page?from=r1"]


def test_a_redirect_loop_stops_after_max_redirects(site: Site) -> None:
    with pytest.raises(FetchError) as caught:
        fetch(site.url("/loop"), limits=LOCAL)
    assert str(caught.value) == "too many redirects (more than 5)"
    assert len(site.requests) == 6  # the first request and five hops


def test_a_redirect_to_another_scheme_is_refused(site: Site) -> None:
    with pytest.raises(FetchError) as caught:
        fetch(site.url("/to-ftp"), limits=LOCAL)
    assert str(caught.value) == "redirect to a non-http(s) URL: ftp://127.0.0.1/feed.xml"


def test_a_body_over_the_cap_fails(site: Site) -> None:
    with pytest.raises(FetchError) as caught:
        fetch(site.url("/big"), limits=LOCAL)  # 6 MiB against the default 5 MiB
    assert str(caught.value) == "larger than 5 MB"


def test_reading_stops_soon_after_the_cap(site: Site) -> None:
    limits = FetchLimits(allow_private=True, max_bytes=64 * 1024)
    with pytest.raises(FetchError, match="larger than 64 KB"):
        fetch(site.url("/huge"), limits=limits)
    assert site.stream_done.wait(10)
    # The server got out only what the socket buffers held once the client hung up.
    assert site.streamed < 32 * MIB


def test_a_declared_length_over_the_cap_fails_before_reading(site: Site) -> None:
    with pytest.raises(FetchError, match="larger than 1 MB"):
        fetch(site.url("/declared-big"), limits=FetchLimits(allow_private=True, max_bytes=MIB))


@pytest.mark.parametrize("path", ["/gzip", "/deflate"])
def test_compressed_bodies_are_inflated(site: Site, path: str) -> None:
    assert fetch(site.url(path), limits=LOCAL).content == page().encode()


def test_the_cap_applies_to_inflated_bytes_without_inflating_a_bomb_in_memory(
    site: Site,
) -> None:
    gzip_bomb()  # compressed before tracing
    limits = FetchLimits(allow_private=True, max_bytes=MIB)
    tracemalloc.start()
    try:
        with pytest.raises(FetchError, match="larger than 1 MB"):
            fetch(site.url("/bomb"), limits=limits)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 32 MiB once inflated; inflating the ~32 KB body in one call would peak above that.
    assert peak < 8 * MIB


def test_an_unrequested_content_encoding_fails(site: Site) -> None:
    with pytest.raises(FetchError, match=r"^unsupported content encoding br$"):
        fetch(site.url("/brotli"), limits=LOCAL)


def test_connection_refused_is_reported(site: Site) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the socket closes
    with pytest.raises(FetchError, match=r"^connection failed: Connection refused$"):
        fetch(f"http://127.0.0.1:{port}/", limits=LOCAL)


def test_a_host_that_does_not_resolve_is_reported() -> None:
    with pytest.raises(FetchError) as caught:
        fetch("http://example.invalid/feed.xml")
    assert str(caught.value) == "cannot resolve host example.invalid"


# --- charsets --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/cp1256-header", "/cp1256-meta", "/cp1256-none", "/iso-meta", "/iso-none"]
)
def test_legacy_arabic_pages_decode(site: Site, path: str) -> None:
    fetched = fetch(site.url(path), limits=LOCAL)
    assert ARTICLE in decode_html(fetched.content, fetched.content_type)


def test_decode_html_prefers_the_header_over_meta() -> None:
    body = page('<meta charset="windows-1256">').encode("utf-8")
    assert ARTICLE in decode_html(body, "text/html; charset=UTF-8")


def test_decode_html_falls_back_when_the_declared_charset_is_bogus_or_wrong() -> None:
    body = page().encode("cp1256")
    assert ARTICLE in decode_html(body, "text/html; charset=x-no-such-charset")
    assert ARTICLE in decode_html(body, "text/html; charset=base64")  # a codec, not a charset
    assert ARTICLE in decode_html(body, 'text/html; charset="utf-8"')  # invalid UTF-8
    meta = page('<meta charset="klingon">').encode("iso8859_6")
    assert ARTICLE in decode_html(meta, None)


def test_decode_html_boms_and_utf8() -> None:
    assert decode_html(b"\xef\xbb\xbf" + page().encode(), "text/html; charset=cp1256") == page()
    assert decode_html(page().encode("utf-16"), None) == page()
    assert decode_html(page().encode(), None) == page()
    # <meta charset=utf-16> on bytes without a BOM means UTF-8, as in browsers.
    assert ARTICLE in decode_html(page('<meta charset="utf-16">').encode(), None)


def test_decode_html_does_not_read_a_latin_page_as_arabic() -> None:
    french = "<p>Le ministère de la Santé a annoncé l'ouverture d'un hôpital à Riyad.</p>"
    text = decode_html(french.encode("cp1252"), None)
    assert "Santé" in text and not any("\u0600" <= ch <= "\u06ff" for ch in text)


# --- the SSRF guard --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://localhost/", "refused: localhost resolves to 127.0.0.1, which is a loopback"),
        ("http://[::1]/", "refused: ::1 is a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "refused: 169.254.169.254 is a link-local"),
        ("http://10.0.0.1/", "refused: 10.0.0.1 is a private address"),
        ("http://[::ffff:127.0.0.1]/", "refused: ::ffff:127.0.0.1 is a loopback address"),
        ("http://2130706433/", "refused: 2130706433 resolves to 127.0.0.1, which is a loopback"),
        ("http://0x7f.1/", "refused: 0x7f.1 resolves to 127.0.0.1, which is a loopback"),
        ("http://0.0.0.0/", "refused: 0.0.0.0 is an unspecified address"),
        ("http://100.64.0.1/", "refused: 100.64.0.1 is a carrier-grade NAT address"),
        ("ftp://example.com/feed.xml", "not an http(s) URL: ftp://example.com/feed.xml"),
        ("file:///etc/passwd", "not an http(s) URL: file:///etc/passwd"),
    ],
)
def test_private_and_non_http_targets_are_refused(url: str, reason: str) -> None:
    with pytest.raises(FetchError) as caught:
        fetch(url)
    assert str(caught.value).startswith(reason)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_the_local_server_is_refused_before_any_connection(site: Site, host: str) -> None:
    with pytest.raises(FetchError, match=r"^refused: .*loopback address$"):
        fetch(site.url("/page", host=host))
    assert site.connections == 0 and site.requests == []


def test_a_redirect_hop_to_a_private_address_is_refused(site: Site) -> None:
    # The first hop (127.0.0.1) is allowed by allowed_networks, standing in for a public site;
    # its redirect to 127.0.0.2 goes through the same connect-time check and is refused.
    limits = FetchLimits(allowed_networks=("127.0.0.1/32",))
    with pytest.raises(FetchError) as caught:
        fetch(site.url("/to-other-loopback"), limits=limits)
    target = f"http://127.0.0.2:{site.port}/page"
    assert str(caught.value) == f"redirected to {target}: refused: 127.0.0.2 is a loopback address"
    assert [path for path, _ in site.requests] == ["/to-other-loopback"]


def test_proxies_from_the_environment_are_ignored(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With the test server as everyone's proxy, a proxied fetch would reach it.
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, site.url("/"))
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(FetchError, match=r"^refused: 10\.0\.0\.1 is a private address$"):
        fetch("http://10.0.0.1/")
    assert site.connections == 0


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("1.1.1.1", None),
        ("8.8.8.8", None),
        ("2606:4700::1111", None),
        ("::ffff:1.1.1.1", None),  # IPv4-mapped public: judged as 1.1.1.1
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("::ffff:10.0.0.1", "private"),
        ("fd12:3456::1", "private"),
        ("fc00::1", "private"),
        ("2002:a00:1::", "private"),  # 6to4 wrapping 10.0.0.1
        ("64:ff9b::a00:1", "private"),  # NAT64 wrapping 10.0.0.1
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("::7f00:1", "reserved"),
    ],
)
def test_address_policy(address: str, kind: str | None) -> None:
    assert address_kind(address) == kind


def test_allowed_networks_exempt_only_themselves() -> None:
    allowed = [ipaddress.ip_network("10.1.2.0/24")]
    check_address("intranet", "10.1.2.3", allowed)
    with pytest.raises(Blocked, match=r"^refused: intranet resolves to 10\.1\.3\.1, which is a"):
        check_address("intranet", "10.1.3.1", allowed)
    check_address("news.example", "1.1.1.1")  # public: no exception
    with pytest.raises(ValueError):
        FetchLimits(allowed_networks=("not a network",))
