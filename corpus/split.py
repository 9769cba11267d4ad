"""Arabic-aware text cleaning, sentence spans and passage splitting — pure functions, no I/O."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from corpus.types import Sentence

# Invisible format characters: zero-width (U+200B–U+200F), bidi embeddings/overrides
# (U+202A–U+202E) and isolates (U+2066–U+2069), BOM, Arabic letter mark, soft hyphen. They
# break word matching and offsets yet show nothing. Other C0/C1 controls (e.g. \x1a in scraped
# news) go too; \t and \n are handled as whitespace below.
_INVISIBLE = re.compile(
    "[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u061c\u00ad"
    "\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]"
)
_NEWLINES = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
_ODD_SPACES = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_SPACE_RUN = re.compile("[ \t]+")
_BLANK_RUN = re.compile("\n{3,}")

_TERMINATORS = frozenset(".!?؟؛;…۔")
_CLOSERS = frozenset("\"'”’»)]}›")
_FINAL_PUNCT = frozenset(".!?؟؛;…۔:،,")
_BULLET = re.compile(r"(?:[•●▪◦‣*\-–—]|\(?[0-9٠-٩۰-۹]{1,3}[.)\-])\s")
_LIST_NUMBER = re.compile(r"\(?[0-9٠-٩۰-۹]{1,3}")
_WORD = re.compile(r"\S+")
_HEADING_MAX_WORDS = 12

_Kind = Literal["text", "heading", "lead", "bullet"]


def clean_text(text: str) -> str:
    """Normalize whitespace and strip invisible characters, keeping diacritics (NFC). HTML
    character references left by scrapers («&#8220;», «&quot;») become their characters."""
    if "&" in text:
        text = html.unescape(text)
    text = _INVISIBLE.sub("", text)
    text = _NEWLINES.sub("\n", text)
    text = _ODD_SPACES.sub(" ", text)
    # Leading indentation carries no meaning in news text, so lines are stripped on both sides.
    lines = (_SPACE_RUN.sub(" ", line).strip() for line in text.split("\n"))
    text = _BLANK_RUN.sub("\n\n", "\n".join(lines)).strip()
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True)
class PassageSpan:
    """A passage: `text == body[char_start:char_end]`."""

    text: str
    char_start: int
    char_end: int


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return [start, end) spans of the sentences in `text`, trimmed and never empty."""
    spans: list[tuple[int, int]] = []
    start = i = 0
    while i < len(text):
        if text[i] == "\n":
            _append_trimmed(spans, text, start, i)
            start = i = i + 1
        elif text[i] in _TERMINATORS and _ends_sentence(text, i):
            end = _punct_run_end(text, i)
            _append_trimmed(spans, text, start, end)
            start = i = end
        else:
            i += 1
    _append_trimmed(spans, text, start, len(text))
    return spans


def content_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans that are not heading lines: the candidates for an answer sentence.

    A heading ("جهود مكافحة الهجرة غير الشرعية") repeats the question's words without answering
    it; falls back to every sentence when the text is nothing but headings.
    """
    return list(_content_sentences(text))


def sentence_layout(text: str) -> list[Sentence]:
    """Every sentence of `text` with its line and the line's role (see `Sentence`), in order."""
    return list(_sentence_layout(text))


# Memoized: a busy bot shows the same passages question after question (2,048 passages of
# ~1 KB each hold a few MB).
PASSAGE_MEMO = 2048


@lru_cache(maxsize=PASSAGE_MEMO)
def _content_sentences(text: str) -> tuple[tuple[int, int], ...]:
    sentences = split_sentences(text)
    headings = {(line.start, line.end) for line in _lines(text) if line.kind == "heading"}
    return tuple([span for span in sentences if span not in headings] or sentences)


@lru_cache(maxsize=PASSAGE_MEMO)
def _sentence_layout(text: str) -> tuple[Sentence, ...]:
    layout = []
    for number, line in enumerate(_lines(text)):
        for start, end in split_sentences(text[line.start : line.end]):
            layout.append(Sentence(line.start + start, line.start + end, number, line.kind))
    return tuple(layout)


def _punct_run_end(text: str, i: int) -> int:
    """Index just past the terminators and closing quotes/brackets starting at `i`."""
    while i < len(text) and (text[i] in _TERMINATORS or text[i] in _CLOSERS):
        i += 1
    return i


def _ends_sentence(text: str, i: int) -> bool:
    """Whether the terminator at `i` closes a sentence (not a number, URL or abbreviation)."""
    end = _punct_run_end(text, i)
    following = text[end] if end < len(text) else ""
    # "3.5", "٣.٥", "sabq.org/x", "?id=" continue; Arabic text glued after a full stop does not.
    if following.isdigit() or (following.isascii() and following.isalnum()):
        return False
    # Inside parentheses opened earlier on the line («(بالتركية العثمانية: …؛ الحديثة: …)»)
    # the sentence goes on.
    line_start = text.rfind("\n", 0, i) + 1
    if _open_brackets(text, line_start, i) > 0:
        return False
    if text[i] != ".":
        return True
    token_start = i
    while token_start > 0 and not text[token_start - 1].isspace():
        token_start -= 1
    token = text[token_start:i].lstrip("(«\"'“")
    last_part = token.rsplit(".", 1)[-1]
    if len(last_part) == 1 and last_part.isalpha():  # "د. أحمد", "U.S."
        return False
    line_start = text.rfind("\n", 0, i) + 1
    # A list number ("1. " or "١. ") at the start of a line opens a bullet, not a sentence.
    return _LIST_NUMBER.fullmatch(text[line_start:i].strip()) is None


def _open_brackets(text: str, start: int, end: int, limit: int = 300) -> int:
    """Parentheses and square brackets opened and not closed in text[start:end] (only the
    last `limit` characters are looked at: a stray bracket does not swallow a paragraph)."""
    segment = text[max(start, end - limit) : end]
    return sum(segment.count(c) for c in "([") - sum(segment.count(c) for c in ")]")


def _append_trimmed(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))


@dataclass(frozen=True)
class _Line:
    start: int
    end: int
    words: int
    kind: _Kind


@dataclass(frozen=True)
class _Sentence:
    start: int
    end: int
    words: int
    line: int
    line_end: bool  # last sentence of its line: a paragraph boundary follows
    glued: bool  # must not end a passage (ends a heading or a lead-in)


def split_passages(
    body: str, *, min_words: int = 60, max_words: int = 200, overlap_sentences: int = 1
) -> list[PassageSpan]:
    """Split a cleaned body into contiguous passages of about `min_words`–`max_words` words."""
    if not 0 <= min_words <= max_words or max_words < 1 or overlap_sentences < 0:
        raise ValueError("need 0 <= min_words <= max_words, max_words >= 1, overlap >= 0")
    lines = _lines(body)
    if not lines:
        return []
    if sum(line.words for line in lines) < min_words:
        spans = [(lines[0].start, lines[-1].end)]
    else:
        segments: list[tuple[int, int]] = []
        for block in _blocks(lines):
            if sum(line.words for line in block) <= max_words:
                segments.append((block[0].start, block[-1].end))
            else:
                sentences = _sentences(body, block, max_words)
                segments.extend(_windows(sentences, max_words, overlap_sentences))
        spans = _pack(body, segments, min_words, max_words)
    return [PassageSpan(body[start:end], start, end) for start, end in spans]


def fit_passages(spans: list[PassageSpan], too_long: Callable[[str], bool]) -> list[PassageSpan]:
    """`spans` with every passage that is `too_long` (e.g. over the encoder's token window)
    cut in two, at the sentence boundary nearest its middle (else a space), until each fits."""
    out: list[PassageSpan] = []
    todo = list(reversed(spans))
    while todo:
        span = todo.pop()
        if not too_long(span.text) or len(span.text.split()) < 2:
            out.append(span)
            continue
        cut = _middle_cut(span.text)
        first, second = span.text[:cut].rstrip(), span.text[cut:].lstrip()
        second_start = span.char_end - len(second)
        todo.append(PassageSpan(second, second_start, span.char_end))
        todo.append(PassageSpan(first, span.char_start, span.char_start + len(first)))
    return out


def _middle_cut(text: str) -> int:
    """A cut point near the middle of `text`: a sentence end, else a space."""
    middle = len(text) // 2
    ends = [end for _, end in split_sentences(text)[:-1]]
    if ends:
        return min(ends, key=lambda end: abs(end - middle))
    spaces = [i for i, ch in enumerate(text) if ch.isspace()]
    return min(spaces, key=lambda i: abs(i - middle))


def _count_words(text: str) -> int:
    return len(text.split())


def _lines(body: str) -> list[_Line]:
    """Non-empty lines, trimmed, each classified by its role in the layout."""
    spans: list[tuple[int, int]] = []
    for match in re.finditer(r"[^\n]+", body):
        _append_trimmed(spans, body, match.start(), match.end())
    lines = []
    for index, (start, end) in enumerate(spans):
        text = body[start:end]
        words = _count_words(text)
        last_char = text.rstrip("".join(_CLOSERS))[-1:]
        kind: _Kind
        if _BULLET.match(text):
            kind = "bullet"
        elif text.endswith(":"):
            kind = "lead"
        elif (
            words <= _HEADING_MAX_WORDS and last_char not in _FINAL_PUNCT and index + 1 < len(spans)
        ):
            kind = "heading"
        else:
            kind = "text"
        lines.append(_Line(start, end, words, kind))
    return lines


def _blocks(lines: list[_Line]) -> list[list[_Line]]:
    """Group lines that must share a passage: heading/lead-in + what follows, a whole list."""
    blocks: list[list[_Line]] = []
    for line in lines:
        previous = blocks[-1][-1] if blocks else None
        attach = previous is not None and (
            previous.kind in ("heading", "lead")
            or (line.kind == "bullet" and previous.kind == "bullet")
        )
        if attach:
            blocks[-1].append(line)
        else:
            blocks.append([line])
    return blocks


def _sentences(body: str, block: list[_Line], max_words: int) -> list[_Sentence]:
    """Sentences of a block; a sentence longer than `max_words` is cut at word boundaries."""
    result: list[_Sentence] = []
    for index, line in enumerate(block):
        pieces: list[tuple[int, int]] = []
        for start, end in split_sentences(body[line.start : line.end]):
            words = list(_WORD.finditer(body, line.start + start, line.start + end))
            for first in range(0, len(words), max_words):
                chunk = words[first : first + max_words]
                pieces.append((chunk[0].start(), chunk[-1].end()))
        glued_line = line.kind in ("heading", "lead")
        for number, (start, end) in enumerate(pieces):
            last = number == len(pieces) - 1
            words_in = _count_words(body[start:end])
            result.append(_Sentence(start, end, words_in, index, last, glued_line and last))
    return result


def _windows(sentences: list[_Sentence], max_words: int, overlap: int) -> list[tuple[int, int]]:
    """Cover `sentences` with windows of at most `max_words`, overlapping inside a paragraph."""
    windows: list[tuple[int, int]] = []
    first = fresh = 0  # window start; first sentence not yet in any window
    while True:
        stop, total = first, 0
        while stop < len(sentences) and total + sentences[stop].words <= max_words:
            total += sentences[stop].words
            stop += 1
        stop = _best_cut(sentences, first, fresh + 1, stop)
        windows.append((sentences[first].start, sentences[stop - 1].end))
        if stop == len(sentences):
            return windows
        # Repeat up to `overlap` sentences of the same paragraph so a cut mid-paragraph keeps
        # context; only if they are short enough for the next window to still move forward.
        back, carried = stop, 0
        while (
            stop - back < overlap
            and back - 1 > first
            and sentences[back - 1].line == sentences[stop].line
            and carried + sentences[back - 1].words <= max_words // 2
            and carried + sentences[back - 1].words + sentences[stop].words <= max_words
        ):
            back -= 1
            carried += sentences[back].words
        first, fresh = back, stop


def _best_cut(sentences: list[_Sentence], first: int, low: int, high: int) -> int:
    """Pick where a window ends: a paragraph break if it keeps half the window, never a heading."""
    if high <= low or high == len(sentences):
        return max(low, high)
    allowed = [cut for cut in range(high, low - 1, -1) if not sentences[cut - 1].glued]
    if not allowed:
        return high
    full = sum(sentence.words for sentence in sentences[first:high])
    for cut in allowed:
        kept = sum(sentence.words for sentence in sentences[first:cut])
        if sentences[cut - 1].line_end and 2 * kept >= full:
            return cut
    return allowed[0]


def _pack(
    body: str, segments: list[tuple[int, int]], min_words: int, max_words: int
) -> list[tuple[int, int]]:
    """Merge a short segment with its neighbour while the result stays within `max_words`."""
    packed: list[tuple[int, int]] = []
    for start, end in segments:
        if packed:
            prev_start, prev_end = packed[-1]
            short = min(_count_words(body[prev_start:prev_end]), _count_words(body[start:end]))
            if short < min_words and _count_words(body[prev_start:end]) <= max_words:
                packed[-1] = (prev_start, end)
                continue
        packed.append((start, end))
    return packed
