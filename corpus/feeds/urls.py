"""One story, one URL: the canonical form of an article link, and a check for admin-given URLs."""

from __future__ import annotations

import re
import string
from urllib.parse import SplitResult, quote, unquote_plus, urlsplit, urlunsplit

# Not courlan (installed with trafilatura): its clean_url drops any parameter whose name merely
# contains a tracker word (cid, gallery, refresh, source), so ?cid=1 and ?cid=2 would become one
# story; its strict mode keeps only a whitelist, dropping e.g. ?NewsID=77; and it leaves
# lower-case escapes (%d8%a3) unlike upper-case ones. Names below are exact (lower-cased).
_TRACKING = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "ysclid",
        "twclid", "ttclid", "igshid", "igsh", "li_fat_id", "mc_cid", "mc_eid", "_ga", "_gl",
        "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "vero_conv",
        "wickedid", "cmpid", "ocid", "smid", "xtor", "at_medium", "at_campaign", "ref_src",
        "ref_url", "pk_campaign", "pk_kwd", "pk_keyword", "pk_source", "pk_medium", "pk_content",
        "__twitter_impression",
    }
)  # fmt: skip
_TRACKING_PREFIXES = ("utm_", "mtm_", "hsa_")  # Google Analytics, Matomo, HubSpot ads
_DEFAULT_PORTS = {"http": 80, "https": 443}
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
# RFC 3986 characters that may stay literal: in a path segment, and in a query name or value
# ("&" and "=" are the separators, so they stay escaped inside one).
_PATH_SAFE = "/:@!$&'()*+,;="
_QUERY_SAFE = "/?:@!$'()*+,;"


def is_http_url(url: str) -> bool:
    """Whether url is an absolute http(s) URL with a host and no spaces (admin input check)."""
    url = url.strip()
    return not any(ch.isspace() for ch in url) and _split(url) is not None


def canonical_url(url: str) -> str:
    """The form every link to one story shares; ValueError when url is not absolute http(s)."""
    parts = _split(url.strip())
    if parts is None:
        raise ValueError(f"not an http(s) URL: {url}")
    scheme = parts.scheme.lower()
    host = _host(parts.hostname or "")
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None and parts.port != _DEFAULT_PORTS[scheme]:
        netloc += f":{parts.port}"
    userinfo, at, _ = parts.netloc.rpartition("@")
    path = _normalize(_remove_dot_segments(parts.path or "/"), _PATH_SAFE)
    # The fragment never reaches the server: it names a place in the page, not a story.
    return urlunsplit((scheme, userinfo + at + netloc, path, _query(parts.query), ""))


def is_tracking_parameter(name: str, value: str = "") -> bool:
    """Whether a query parameter (decoded name and value) only tracks the click."""
    name = name.lower()
    if name == "ref":  # ?ref=rss, ?ref=homepage track; ?ref=4312 may be the article
        return not value.isdigit()
    return name in _TRACKING or name.startswith(_TRACKING_PREFIXES)


def _split(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number in range)
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme.lower() not in _DEFAULT_PORTS or not host or any(c.isspace() for c in host):
        return None
    return parts


def _host(host: str) -> str:
    host = host.rstrip(".")  # "example.com." is the same host, fully qualified
    try:
        # ASCII (punycode) so that the Unicode and xn-- spellings of a domain compare equal.
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return host


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4 for an absolute path: /a/./b/../c -> /a/c."""
    segments = path.split("/")[1:]
    if "." not in segments and ".." not in segments:
        return path
    out: list[str] = []
    for segment in segments:
        if segment == "..":
            if out:
                out.pop()
        elif segment != ".":
            out.append(segment)
    if segments[-1] in (".", ".."):
        out.append("")  # /a/b/.. is the directory /a/
    return "/" + "/".join(out)


def _normalize(part: str, safe: str) -> str:
    """Percent-encoding in one spelling: non-ASCII as UTF-8 escapes, escapes upper-case, and
    escaped unreserved characters (%41, %7E) decoded; other escapes stay escaped."""
    pieces = []
    end = 0
    for match in _ESCAPE.finditer(part):
        pieces.append(quote(part[end : match.start()], safe=safe))
        char = chr(int(match[1], 16))
        pieces.append(char if char in _UNRESERVED else "%" + match[1].upper())
        end = match.end()
    pieces.append(quote(part[end:], safe=safe))
    return "".join(pieces)


def _query(query: str) -> str:
    """Tracking parameters removed, the rest sorted by name (stable for repeated names)."""
    fields = []
    for field in query.split("&"):
        name, equals, value = field.partition("=")
        if field and not is_tracking_parameter(unquote_plus(name), unquote_plus(value)):
            fields.append((_normalize(name, _QUERY_SAFE), equals, _normalize(value, _QUERY_SAFE)))
    fields.sort(key=lambda field: field[0])
    return "&".join("".join(field) for field in fields)
