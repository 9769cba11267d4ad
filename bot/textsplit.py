"""Split plain text into pieces that fit a size limit, at the most natural boundary — pure."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

SENTENCE_END = re.compile(r"(?<=[.!?؟؛…])\s+")


def tg_len(text: str) -> int:
    """Length in UTF-16 code units (how Telegram measures message text)."""
    return len(text.encode("utf-16-le")) // 2


def escaped_len(text: str) -> int:
    """Size of `text` once HTML-escaped for Telegram."""
    return tg_len(html.escape(text, quote=False))


_SEPARATORS: tuple[str | re.Pattern[str], ...] = (
    re.compile(r"(?<=\n)\s*\n"),
    "\n",
    SENTENCE_END,
    " ",
)


def split_plain(text: str, limit: int, size: Callable[[str], int] = escaped_len) -> list[str]:
    """Split raw text into chunks whose escaped size fits `limit`: paragraphs, lines, sentences,
    words, and characters only as a last resort."""
    text = text.strip()
    if not text:
        return []
    chunks = _split(text, limit, 0, size)
    return [c.strip() for c in chunks if c.strip()]


def _split(text: str, limit: int, level: int, size: Callable[[str], int]) -> list[str]:
    if size(text) <= limit:
        return [text]
    if level == len(_SEPARATORS):
        return _hard_split(text, limit, size)
    chunks: list[str] = []
    current = ""
    for part in _pieces(text, _SEPARATORS[level]):
        if size(current + part) <= limit:
            current += part
            continue
        if current.strip():
            chunks.append(current)
        current = ""
        if size(part) <= limit:
            current = part
        else:
            sub = _split(part, limit, level + 1, size)
            chunks.extend(sub[:-1])
            current = sub[-1]
    if current.strip():
        chunks.append(current)
    return chunks


def _pieces(text: str, separator: str | re.Pattern[str]) -> list[str]:
    """Split keeping each separator at the end of the piece before it."""
    pattern = separator if isinstance(separator, re.Pattern) else re.compile(re.escape(separator))
    pieces, start = [], 0
    for match in pattern.finditer(text):
        pieces.append(text[start : match.end()])
        start = match.end()
    pieces.append(text[start:])
    return [p for p in pieces if p]


def _hard_split(text: str, limit: int, size: Callable[[str], int]) -> list[str]:
    chunks, current = [], ""
    for char in text:
        if current and size(current + char) > limit:
            chunks.append(current)
            current = ""
        current += char
    return [*chunks, current] if current else chunks
