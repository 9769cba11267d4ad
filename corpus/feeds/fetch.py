"""The one place that fetches admin-given URLs: SSRF guard, size and time caps, charset decoding."""

from __future__ import annotations

import codecs
import ipaddress
import re
import time
import zlib
from dataclasses import dataclass

import httpcore
import httpx
from charset_normalizer import from_bytes

from corpus.feeds.guard import Blocked, GuardedTransport

USER_AGENT = "SanadBot/1.0 (+https://github.com/sanad-bot/sanad; news question answering)"
ACCEPT_HTML = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
ACCEPT_FEED = (
    "application/rss+xml,application/atom+xml,application/rdf+xml;q=0.9,"
    "application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.8"
)


class FetchError(Exception):
    """Why a URL could not be fetched: a short English phrase an admin reads in /feed list."""


@dataclass(frozen=True)
class FetchLimits:
    """Bounds on one fetch; allowed_networks are CIDR blocks exempt from the private refusal."""

    timeout_s: float = 10.0  # connect, and each read
    # The whole fetch, redirects included: a server dripping a byte every few seconds never
    # trips the per-read timeout.
    total_s: float = 60.0
    max_bytes: int = 5 * 2**20  # of the decoded body
    max_redirects: int = 5
    user_agent: str = USER_AGENT
    allow_private: bool = False
    allowed_networks: tuple[str, ...] = ()  # e.g. ("10.1.2.0/24",) for a trusted intranet feed

    def __post_init__(self) -> None:
        for network in self.allowed_networks:
            ipaddress.ip_network(network)  # ValueError now rather than at the first fetch


DEFAULT_LIMITS = FetchLimits()


@dataclass(frozen=True)
class Fetched:
    """A 2xx body (decoded from gzip/deflate, at most max_bytes) or a 304 with b""."""

    url: str  # after redirects
    status: int
    content: bytes
    content_type: str | None
    etag: str | None  # for the next conditional GET
    last_modified: str | None

    @property
    def not_modified(self) -> bool:
        """Whether the server answered 304 to a conditional GET."""
        return self.status == 304


def fetch(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    limits: FetchLimits = DEFAULT_LIMITS,
    accept: str = ACCEPT_HTML,
) -> Fetched:
    """GET url (conditional when given validators), following checked redirects; FetchError."""
    headers = {
        "User-Agent": limits.user_agent,
        "Accept": accept,
        "Accept-Language": "ar, en;q=0.5",
        "Accept-Encoding": "gzip, deflate",  # the only codings _read inflates
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = time.monotonic() + limits.total_s
    try:
        # No proxy, ever: a proxy connects to the target itself, out of the guard's sight.
        # httpx 0.28 already skips HTTP(S)_PROXY when given a transport; trust_env=False keeps
        # it so should that change.
        transport = GuardedTransport(
            allow_private=limits.allow_private, allowed_networks=limits.allowed_networks
        )
        with httpx.Client(
            transport=transport,
            headers=headers,
            timeout=limits.timeout_s,
            follow_redirects=False,
            trust_env=False,
        ) as client:
            return _follow(client, url, limits, (etag, last_modified), deadline)
    except (httpx.TimeoutException, httpcore.TimeoutException) as exc:
        raise FetchError(f"timed out after {limits.timeout_s:g} s") from exc
    except (httpx.InvalidURL, httpcore.UnsupportedProtocol, UnicodeError) as exc:
        raise FetchError(f"invalid URL or header: {exc}") from exc
    except (httpx.HTTPError, httpcore.NetworkError, httpcore.ProtocolError, OSError) as exc:
        raise FetchError(f"connection failed: {_reason(exc)}") from exc
    except zlib.error as exc:
        raise FetchError("body is not valid gzip/deflate") from exc


def _follow(
    client: httpx.Client,
    url: str,
    limits: FetchLimits,
    validators: tuple[str | None, str | None],
    deadline: float,
) -> Fetched:
    first = httpx.URL(url)
    # Checked before build_request, which reads a URL without a host (file:///etc/passwd) as
    # a path relative to the client's empty base URL.
    if first.scheme not in ("http", "https") or not first.host:
        raise FetchError(f"not an http(s) URL: {url}")
    request = client.build_request("GET", first)
    for hop in range(limits.max_redirects + 1):
        if request.url.scheme not in ("http", "https"):
            raise FetchError(f"redirect to a non-http(s) URL: {request.url}")
        try:
            response = client.send(request, stream=True)
        except Blocked as exc:
            # Name the hop: the admin gave a different URL from the one that was refused.
            raise FetchError(f"redirected to {request.url}: {exc}" if hop else str(exc)) from exc
        try:
            if response.next_request is None:
                return _result(response, limits, validators, deadline)
            request = response.next_request
        finally:
            response.close()
    raise FetchError(f"too many redirects (more than {limits.max_redirects})")


def _result(
    response: httpx.Response,
    limits: FetchLimits,
    validators: tuple[str | None, str | None],
    deadline: float,
) -> Fetched:
    status = response.status_code
    if status != 304 and not 200 <= status < 300:
        raise FetchError(f"HTTP {status}")
    content = b"" if status == 304 else _read(response, limits, deadline)
    return Fetched(
        url=str(response.url),
        status=status,
        content=content,
        content_type=response.headers.get("Content-Type"),
        # A 304 need not repeat the validators; keep the ones that matched.
        etag=response.headers.get("ETag") or (validators[0] if status == 304 else None),
        last_modified=response.headers.get("Last-Modified")
        or (validators[1] if status == 304 else None),
    )


def _read(response: httpx.Response, limits: FetchLimits, deadline: float) -> bytes:
    too_large = FetchError(f"larger than {_size(limits.max_bytes)}")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise too_large
    coding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if coding not in ("identity", "gzip", "x-gzip", "deflate"):
        raise FetchError(f"unsupported content encoding {coding}")
    # Inflating ourselves, 64 KiB at a time, bounds memory: httpx's decoder would expand a
    # 64 KiB chunk of a gzip bomb into ~64 MiB before the cap could be checked.
    inflater = None if coding == "identity" else zlib.decompressobj(zlib.MAX_WBITS | 32)
    body = bytearray()
    for raw in response.iter_raw():
        if inflater is None:
            body += raw
        else:
            data = raw
            while data and len(body) <= limits.max_bytes:
                body += inflater.decompress(data, 64 * 1024)
                data = inflater.unconsumed_tail
        if len(body) > limits.max_bytes:
            raise too_large
        if time.monotonic() > deadline:
            raise FetchError(f"timed out after {limits.total_s:g} s")
    if inflater is not None:
        body += inflater.flush()
    if len(body) > limits.max_bytes:
        raise too_large
    return bytes(body)


def _size(n: int) -> str:
    for unit, scale in (("MB", 2**20), ("KB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


def _reason(exc: BaseException) -> str:
    return re.sub(r"^\[Errno -?\d+\]\s*", "", str(exc)) or type(exc).__name__


_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
# Browsers read the first 1024 bytes; 4 KiB also finds a <meta> after long inline scripts.
_META_SCAN = 4096
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Arabic sites still serve these; tried first when nothing is declared (short pages fool
# general detection: a 33-letter windows-1256 page came out as mac_latin2).
_LEGACY_ARABIC = ["cp1256", "iso8859_6"]


def decode_html(content: bytes, content_type: str | None) -> str:
    """HTML bytes to str: BOM, Content-Type charset, <meta> charset, else detection; no errors."""
    for bom, codec in _BOMS:
        if content.startswith(bom):
            return content.decode(codec, errors="replace")
    labels = []
    if header := _HEADER_CHARSET.search(content_type or ""):
        labels.append(header[1])
    if meta := _META_CHARSET.search(content[:_META_SCAN]):
        labels.append(meta[1].decode("ascii"))
    for label in labels:
        text = _decode_declared(content, label)
        if text is not None:
            return text
    return _detect(content)


def _decode_declared(content: bytes, label: str) -> str | None:
    """The content in a declared charset; None when the label is unknown or does not fit."""
    try:
        name = codecs.lookup(label).name
        # ASCII-compatible bytes cannot be UTF-16 without a BOM; browsers read such pages as UTF-8.
        return content.decode("utf-8" if name.startswith(("utf-16", "utf-32")) else name)
    except (LookupError, UnicodeDecodeError):
        return None


def _detect(content: bytes) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    arabic = from_bytes(content, cp_isolation=_LEGACY_ARABIC).best()
    if arabic is not None and _mostly_arabic(str(arabic)):
        return str(arabic)
    match = from_bytes(content).best()
    return str(match) if match is not None else content.decode("utf-8", errors="replace")


def _mostly_arabic(text: str) -> bool:
    # Over non-ASCII letters only, so markup does not count; a French page read as windows-1256
    # keeps its é and à and fails this.
    letters = [ch for ch in text if ch.isalpha() and not ch.isascii()]
    return bool(letters) and sum("\u0600" <= ch <= "\u06ff" for ch in letters) > len(letters) / 2
