"""Site boilerplate in news bodies: share lines, "contact the writer", e-mail addresses, SMS
codes, wire end markers — found and removed before a body is split into passages. Pure.

Two kinds of evidence:
- **repetition**: a short line whose *shape* (the article's title, e-mail addresses, links and
  digits abstracted away) occurs in `MIN_ARTICLES` or more articles of one source is the site's,
  not the story's: «رابط الخبر بصحيفة الوئام: <title>», «// انتهى // 18:07 ت م»,
  «للتواصل مع الكاتب ارسل رسالة SMS». The counts live in the database (`corpus.models.LineShape`)
  and grow with every ingest, so a source's first articles may keep a line that only later
  proves to repeat (at most `MIN_ARTICLES - 1` of them);
- **form**, for what one article alone shows: a line that is only an e-mail address or link, a
  short "contact" line with a phone or SMS code, a share bar glued before the first sentence,
  «اقرأ أيضاً» lines, a tag list («سمات …») glued after the last sentence.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

# A line repeated in this many articles of one source is boilerplate. Three: a share line is in
# every article of its site, while one story's sentence reprinted by one outlet twice is not.
MIN_ARTICLES: Final = 3
# Longer lines are prose even when repeated (a reprinted paragraph is the story's business).
MAX_WORDS: Final = 25

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_LINK = re.compile(r"(?:https?://|www\.)\S+|@\w{3,}|#\w+")
_DIGITS = re.compile(r"[0-9٠-٩۰-۹]+")
_CONTACT = re.compile(r"^(?:للتواصل|للتعليق|للاشتراك|تابعونا|تابعوا)|\bsms\b", re.IGNORECASE)
_READ_ALSO = re.compile(r"^(?:اقرأ|إقرأ|اقرا|شاهد|طالع)\s+(?:أيضا|أيضاً|ايضا|ايضاً)")
_SHARE_BAR = re.compile(r"^شارك من خلال (?:تويتر|فيسبوك|جوجل بلس|واتساب|\s)+(?:اكتب رأيك\s*)?")
_TAGS = re.compile(r"(?<=[.!?؟»\"”])\s+سمات\s+[^.!?؟]*$")


def line_shape(line: str, title: str) -> str:
    """The line with the article's title, e-mail addresses, links and digits abstracted away."""
    title = title.strip()
    if len(title) >= 8:
        line = line.replace(title, "‹T›")
    line = _EMAIL.sub("‹@›", line)
    line = _LINK.sub("‹L›", line)
    line = _DIGITS.sub("0", line)
    return " ".join(line.split())


def shape_key(source: str | None, shape: str) -> str:
    """A short stable key of (source, shape) for the counts table: 16 hex digits of sha256."""
    return hashlib.sha256(f"{source or ''}\n{shape}".encode()).hexdigest()[:16]


def candidate_shapes(body: str, title: str) -> set[str]:
    """Shapes of the body's lines short enough to be boilerplate (each counted once)."""
    return {
        line_shape(line, title)
        for line in body.split("\n")
        if line.strip() and len(line.split()) <= MAX_WORDS
    }


def by_form(line: str) -> bool:
    """Whether a line is boilerplate by its form alone (see the module docstring)."""
    words = line.split()
    if not words:
        return False
    bare = _LINK.sub("", _EMAIL.sub("", line)).strip(" :-–—|/.,،")
    if not bare and (_EMAIL.search(line) or _LINK.search(line)):
        return True  # only addresses and links
    if (
        len(words) <= MAX_WORDS
        and _CONTACT.search(line)
        and (_DIGITS.search(line) or "sms" in line.lower() or _EMAIL.search(line))
    ):
        return True
    return len(words) <= MAX_WORDS and _READ_ALSO.match(line) is not None


@dataclass(frozen=True)
class Stripped:
    """A body without its boilerplate, and what was removed (lines or glued fragments)."""

    body: str
    removed: tuple[str, ...]


def strip_boilerplate(body: str, title: str, repeated: Callable[[str], bool]) -> Stripped:
    """Remove boilerplate lines from a cleaned `body` (lines joined by "\\n", blank lines
    between paragraphs). `repeated(shape)` says whether a line shape repeats across the
    source's articles (see `MIN_ARTICLES`). A body that would be left empty is kept whole."""
    lines = body.split("\n")
    kept: list[str] = []
    removed: list[str] = []
    for line in lines:
        text = line.strip()
        if not text:
            kept.append(line)
            continue
        short = len(text.split()) <= MAX_WORDS
        if by_form(text) or (short and repeated(line_shape(text, title))):
            removed.append(text)
            continue
        bar = _SHARE_BAR.match(text)
        if bar and bar.end() < len(text):
            removed.append(bar.group().strip())
            text = text[bar.end() :].strip()
        kept.append(text)
    last = max((i for i, line in enumerate(kept) if line.strip()), default=None)
    if last is not None and (tags := _TAGS.search(kept[last])):
        removed.append(tags.group().strip())
        kept[last] = kept[last][: tags.start()].rstrip()
    result = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    if not result:
        return Stripped(body, ())
    return Stripped(result, tuple(removed))
