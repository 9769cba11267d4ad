"""Site boilerplate in news bodies: share lines, "contact the writer", e-mail addresses, SMS
codes, wire end markers — found and removed before a body is split into passages. Pure.

Two kinds of evidence:
- **repetition**: a short line whose *shape* (the article's title, e-mail addresses and links
  abstracted away) occurs in `MIN_ARTICLES` or more articles of one source is the site's, not
  the story's: «رابط الخبر بصحيفة الوئام: <title>», «للتواصل مع الكاتب ارسل رسالة SMS».
  The counts live in the database (`corpus.models.LineShape`)
  and grow with every ingest, so a source's first articles may keep a line that only later
  proves to repeat (at most `MIN_ARTICLES - 1` of them); an article counts once, however
  often it is updated;
- **form**, for what one article alone shows: a line that is only an e-mail address or link, a
  wire end mark and send time («// انتهى // 18:07 ت م»), a short "contact the writer" line with
  an SMS route or codes, a share bar glued before the first sentence,
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
_CONTACT = re.compile(r"^(?:للتواصل|للتعليق|للاشتراك|لمراسلة)")
_CODE = re.compile(r"[0-9٠-٩]{4,}")  # a phone number or an SMS short code
# Wire-service end and continuation marks and the send time after them: «// انتهى //»,
# «// يتبع // 11:02 ت م», a bare «18:07 ت م».
_WIRE_MARK = re.compile(
    r"^(?://\s*(?:انتهى|يتبع)\s*//)?\s*(?:[0-9٠-٩]{1,2}:[0-9٠-٩]{2}\s*[تص]\s*م)?\s*$"
)
_READ_ALSO = re.compile(r"^(?:اقرأ|إقرأ|اقرا|شاهد|طالع)\s+(?:أيضا|أيضاً|ايضا|ايضاً)")
_SHARE_BAR = re.compile(r"^شارك من خلال (?:تويتر|فيسبوك|جوجل بلس|واتساب|\s)+(?:اكتب رأيك\s*)?")
_TAGS = re.compile(r"(?<=[.!?؟»\"”])\s+سمات\s+[^.!?؟]*$")


def line_shape(line: str, title: str) -> str:
    """The line with the article's title, e-mail addresses and links abstracted away. Digits
    are kept: a daily report's «أغلق المؤشر عند 6513 نقطة» differs from day to day and is
    the story's, not the site's."""
    title = title.strip()
    if len(title) >= 8:
        line = line.replace(title, "‹T›")
    line = _EMAIL.sub("‹@›", line)
    line = _LINK.sub("‹L›", line)
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
    if _WIRE_MARK.match(line):
        return True
    # "contact the writer": opens with a contact word and gives an SMS route, an address or
    # two or more numbers; a sentence that merely starts so («للتواصل مع المتضررين خصصت
    # الإمارة الرقم 940») is kept.
    routes = "sms" in line.lower() or _EMAIL.search(line) or len(_CODE.findall(line)) >= 2
    if len(words) <= MAX_WORDS and _CONTACT.match(line) and routes:
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
