"""Hits and articles as Telegram HTML messages — pure functions, no I/O.

Every piece of corpus or user text goes through `html.escape`. Lines the bot composes start with
a right-to-left mark so that a line opening with a digit, an emoji or a Latin name still lays out
right to left. Sizes are measured in UTF-16 code units of the raw HTML, which is never less than
what Telegram counts against its 4096-character limit.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot import messages
from bot.textsplit import SENTENCE_END, escaped_len, split_plain, tg_len
from retrieval.types import ArticleView, Citation, CorpusStats, Hit, Sentence

TELEGRAM_LIMIT = 4096
RLM = "\u200f"
# Raw characters of passage shown: the first result with its context, the others shorter, so
# that a page of three stays within one phone screen (benchmarks/reading.py measures it).
EXCERPT_CHARS = 280
OTHER_EXCERPT_CHARS = 130
OTHER_TITLE_CHARS = 45  # titles of the results after the first (one line with the outlet)
TITLE_CHARS = 160
SOURCE_CHARS = 60
URL_CHARS = 1000
ALSO_IN_SHOWN = 4
NBSP = "\u00a0"
LRI, PDI = "\u2066", "\u2069"  # left-to-right isolate, pop directional isolate
# A left-to-right run inside Arabic text: a command, a link, an address, Latin words with their
# digits and inner punctuation ("B777-300ER", "Real Madrid"). Isolated, it keeps its order and
# its place; bare, its halves can swap around a hyphen or a space.
_LTR_RUN = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|(?<![\w/])(?:/|https?://|www\.)?[A-Za-z][A-Za-z0-9]*"
    r"(?:(?:[-_.:/@#&%+=?']| (?=[A-Za-z0-9]))+[A-Za-z0-9]+)*"
)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b]+")
_BLANK_LINES = re.compile(r"\s*\n\s*")


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def _text(text: str) -> str:
    """Corpus text for a message: left-to-right runs isolated, then escaped."""
    return escape(isolate(text))


def counted(n: int, forms: tuple[str, str, str, str]) -> str:
    """`n` of something with the noun agreeing in Arabic: forms for 1, 2, 3-10 and 11 up
    (e.g. messages.SECONDS: ثانية واحدة، ثانيتان، 3 ثوانٍ، 45 ثانية)."""
    one, two, few, many = forms
    form = one if n == 1 else two if n == 2 else few if 3 <= n <= 10 else many
    return form.format(n=digits(max(n, 0)))


def digits(value: int | str) -> str:
    """A number as the bot writes it: Western digits (0-9), the digits of the corpus itself
    (99 % of the digits in the bundled news), so that the bot's own numbers match the quoted
    excerpts, whose codes and figures ("B777-300ER", "1086.20") cannot be rewritten."""
    return str(value)


def isolate(text: str) -> str:
    """`text` with every left-to-right run (see `_LTR_RUN`) that holds more than letters wrapped
    in LRI … PDI (a lone Latin word keeps its order anyway). Raw text: escape afterwards."""
    return _LTR_RUN.sub(
        lambda m: m.group() if m.group().isalpha() else f"{LRI}{m.group()}{PDI}", text
    )


def format_date(value: datetime | None) -> str | None:
    """`2015-08-01` -> `1 أغسطس 2015`, with no-break spaces: a date never breaks across lines."""
    if value is None:
        return None
    return NBSP.join((str(value.day), messages.MONTHS[value.month - 1], str(value.year)))


def shorten(text: str, limit: int) -> str:
    """Cut `text` at a word boundary to at most `limit` characters, marking the cut with …."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ،,.;:؛") + "…"


def format_welcome(stats: CorpusStats | None, *, intro: str = messages.WELCOME) -> str:
    """The /start and /help text: what the bot is, what it knows, then an invitation to try."""
    parts = [intro]
    if stats is None or stats.articles == 0:
        parts.append(messages.INDEX_EMPTY)
    else:
        known = messages.KNOWLEDGE.format(
            articles=digits(stats.articles), sources=digits(len(stats.sources))
        )
        first, last = format_date(stats.first_date), format_date(stats.last_date)
        if first and last:
            known += messages.KNOWLEDGE_RANGE.format(first=first, last=last)
        parts.append(escape(known) + ".")
        if stats.sources:
            names = "، ".join(shorten(s, SOURCE_CHARS) for s in stats.sources[:12])
            if len(stats.sources) > 12:
                names += "…"
            parts.append(escape(messages.KNOWLEDGE_SOURCES.format(names=names)))
    parts.append(messages.EXAMPLES_TITLE)
    return "\n\n".join(RLM + p.replace("\n", "\n" + RLM) for p in parts)


# --- excerpts ---------------------------------------------------------------------------------
ELLIPSIS = "…"


@dataclass(frozen=True)
class Excerpt:
    """Whole sentences of a passage around the answer sentence: `parts` in reading order, each
    (raw text, is the answer); an «…» part stands wherever text is left out."""

    parts: tuple[tuple[str, bool], ...]

    @property
    def text(self) -> str:
        return "".join(part for part, _ in self.parts)

    @property
    def sentence(self) -> str:
        """The answer sentence as shown ("" when there is none)."""
        return "".join(part for part, answer in self.parts if answer)

    def html(self) -> str:
        return _tidy("".join(f"<b>{_text(t)}</b>" if b else _text(t) for t, b in self.parts))


def excerpt(
    text: str,
    span: tuple[int, int] | None,
    budget: int,
    sentences: Sequence[Sentence] = (),
) -> Excerpt:
    """The answer sentence (`span`) with the whole sentences around it that fit in `budget`
    characters, «…» where text is left out. A list item keeps its lead-in line and a lead-in
    keeps the items after it; without a span, the passage's first sentences. An answer sentence
    longer than the budget alone is cut at a word, with «…».

    `sentences` is the passage's layout (`Hit.sentences`); without it, sentences are found at
    line breaks and final punctuation."""
    layout = list(sentences) or _plain_layout(text)
    if not layout:
        return Excerpt(())
    answer = _answer_index(layout, span)
    if answer is None:
        return _assemble(text, layout, _grow(text, layout, [], budget), None)
    if _size(text, layout, [answer]) > budget:
        first = layout[answer]
        before = (ELLIPSIS + " ", False) if text[: first.start].strip() else None
        room = budget - (2 if before else 0) - 2
        cut = cut_at_clause(text[first.start : first.end], max(room, 0))
        if not cut.strip():  # no room for a single word
            return Excerpt(((ELLIPSIS, False),))
        return Excerpt(tuple(p for p in (before, (cut, True), (" " + ELLIPSIS, False)) if p))
    chosen = [answer]
    for extra in _list_context(layout, answer):
        if _size(text, layout, [*chosen, extra]) <= budget:
            chosen.append(extra)
    return _assemble(text, layout, _grow(text, layout, chosen, budget), answer)


def _answer_index(layout: Sequence[Sentence], span: tuple[int, int] | None) -> int | None:
    if span is None or span[1] <= span[0]:
        return None
    overlaps = [
        (min(s.end, span[1]) - max(s.start, span[0]), -i)
        for i, s in enumerate(layout)
        if s.start < span[1] and span[0] < s.end
    ]
    return -max(overlaps)[1] if overlaps else None


def _list_context(layout: Sequence[Sentence], answer: int) -> list[int]:
    """A list item's lead-in sentence; a lead-in's items (in order)."""
    sentence = layout[answer]
    if sentence.kind == "bullet":
        i = answer - 1
        while i >= 0 and layout[i].kind == "bullet":
            i -= 1
        return [i] if i >= 0 and layout[i].kind == "lead" else []
    line_end = answer + 1 == len(layout) or layout[answer + 1].line != sentence.line
    if sentence.kind == "lead" and line_end:
        items = []
        i = answer + 1
        while i < len(layout) and layout[i].kind == "bullet":
            items.append(i)
            i += 1
        return items
    return []


def _grow(text: str, layout: Sequence[Sentence], chosen: list[int], budget: int) -> list[int]:
    """Add neighbouring sentences while they fit: the answer's own paragraph before other
    lines, then the side that has grown less (after the answer on a tie)."""
    chosen = sorted(chosen)
    if not chosen:
        if _size(text, layout, [0]) > budget:
            return []
        chosen = [0]
    line = layout[chosen[0]].line
    grown = {"before": 0, "after": 0}
    while True:
        options = [(i, side) for i, side in ((chosen[-1] + 1, "after"), (chosen[0] - 1, "before"))]
        options = [(i, side) for i, side in options if 0 <= i < len(layout)]
        options.sort(key=lambda o: (layout[o[0]].line != line, grown[o[1]]))
        for i, side in options:
            if _size(text, layout, [*chosen, i]) <= budget:
                chosen = sorted([*chosen, i])
                grown[side] += layout[i].end - layout[i].start
                break
        else:
            return chosen


def _size(text: str, layout: Sequence[Sentence], chosen: Sequence[int]) -> int:
    return len(_assemble(text, layout, sorted(chosen), None).text)


def _assemble(
    text: str, layout: Sequence[Sentence], chosen: Sequence[int], answer: int | None
) -> Excerpt:
    if not chosen:
        return Excerpt(())
    parts: list[tuple[str, bool]] = []
    if layout[chosen[0]].start > 0 and text[: layout[chosen[0]].start].strip():
        parts.append((ELLIPSIS + " ", False))
    previous: int | None = None
    for i in chosen:
        sentence = layout[i]
        if previous is not None:
            gap = text[layout[previous].end : sentence.start]
            if i != previous + 1:
                gap = "\n" + ELLIPSIS + "\n" if "\n" in gap else " " + ELLIPSIS + " "
            parts.append((gap, False))
        parts.append((text[sentence.start : sentence.end], i == answer))
        previous = i
    if text[layout[chosen[-1]].end :].strip():
        parts.append((" " + ELLIPSIS, False))
    return Excerpt(tuple(parts))


def _plain_layout(text: str) -> list[Sentence]:
    """Sentences at line breaks and after final punctuation (when no layout came with a hit)."""
    layout = []
    offset = 0
    for number, line in enumerate(text.split("\n")):
        position = 0
        for piece in SENTENCE_END.split(line):
            start = line.index(piece, position) if piece else position
            position = start + len(piece)
            stripped = piece.strip()
            if stripped:
                begin = offset + start + (len(piece) - len(piece.lstrip()))
                layout.append(Sentence(begin, begin + len(stripped), number, "text"))
        offset += len(line) + 1
    return layout


def cut_at_clause(text: str, limit: int) -> str:
    """The head of `text` within `limit` characters, ending after a comma or semicolon in its
    second half if there is one, else at a word boundary (an «…» is added by the caller)."""
    head = text[:limit]
    clause = max(head.rfind(mark) for mark in "،؛,;")
    if clause > limit // 2:
        return head[: clause + 1].rstrip(" ،؛,;")
    return cut_at_word(text, limit).rstrip()


def cut_at_word(text: str, limit: int) -> str:
    """The head of `text`, at most `limit` characters, ending at a word boundary if possible."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    return cut[:space] if space > limit // 2 else cut


def _tidy(fragment: str) -> str:
    """Collapse runs of spaces, keep single line breaks, start every line right to left."""
    lines = _BLANK_LINES.split(_SPACES.sub(" ", fragment).strip())
    return "\n".join(RLM + line.strip() for line in lines if line.strip())


# --- hits -------------------------------------------------------------------------------------
def link(title: str, url: str | None) -> str:
    """The title linked to its article (http(s) URLs only), else in italics; escaped."""
    if url and url.startswith(("http://", "https://")) and len(url) <= URL_CHARS:
        return f'<a href="{html.escape(url, quote=True)}">{_text(title)}</a>'
    return f"<i>{_text(title)}</i>"


def citation(cited: Citation, title_chars: int = TITLE_CHARS, age: str | None = None) -> str:
    """`📰 <a href=url>title</a> — source، date (age)` (HTML, one line)."""
    title = shorten(cited.title, title_chars) or messages.UNTITLED
    tail = details(cited, age)
    return f"{RLM}📰 {link(title, cited.url)}" + (f" — {tail}" if tail else "")


def details(cited: Citation, age: str | None = None) -> str:
    """`source، date (age)` (escaped HTML), or "" when the article has neither."""
    source = shorten(cited.source, SOURCE_CHARS) if cited.source else None
    details = "، ".join(_text(d) for d in (source, format_date(cited.published_at)) if d)
    return f"{details}{NBSP}({escape(age)})" if details and age else details  # one unit


def also_published(refs: Sequence[Citation]) -> str:
    """`نُشر أيضاً في: <a>source</a>، …` for duplicate stories in other outlets."""
    names = [
        link(shorten(ref.source or ref.title, SOURCE_CHARS), ref.url)
        for ref in refs[:ALSO_IN_SHOWN]
    ]
    if len(refs) > ALSO_IN_SHOWN:
        names.append(digits(f"+{len(refs) - ALSO_IN_SHOWN}"))
    return RLM + "↩️ " + messages.ALSO_PUBLISHED.format(sources="، ".join(names))


def format_hit(
    hit: Hit,
    budget: int,
    *,
    numbered: bool = True,
    excerpt_chars: int = EXCERPT_CHARS,
    title_chars: int = TITLE_CHARS,
    age: str | None = None,
) -> str:
    """One hit as an HTML block of at most `budget` characters: excerpt (at most
    `excerpt_chars` of passage text), citation (with the article's `age`), other outlets."""
    number = f"<b>{digits(hit.rank)}.</b> " if numbered else ""
    meta = citation(hit.citation, title_chars, age)
    if hit.also_in:
        meta += "\n" + also_published(hit.also_in)
    if tg_len(meta) > budget // 2:  # pathological metadata: keep the title only, short
        meta = citation(Citation(hit.article_id, shorten(hit.title, 40)))
    room = budget - tg_len(meta) - tg_len(number) - 2
    chars = min(excerpt_chars, room)
    while True:
        body = excerpt(hit.text, hit.answer_span, max(chars, 0), hit.sentences).html()
        size = tg_len(body)
        if size <= room or chars <= 0:
            break
        chars = min(chars - 10, chars * room // size)
    text = body.removeprefix(RLM)
    return f"{RLM}{number}{text}\n{meta}" if text else f"{RLM}{number}{meta.removeprefix(RLM)}"


def format_answer(
    hits: Sequence[Hit],
    *,
    truncated_at: int | None = None,
    limit: int = TELEGRAM_LIMIT,
    header: str | None = None,
    ages: Sequence[str | None] = (),
    newest_first: bool = False,
) -> str:
    """A page of hits as one message; the first page gets the plain header (or `header`, a
    line of HTML); `ages` say how old each hit's article is (bot/recent.py). The first hit gets
    the longer excerpt, unless the hits come `newest_first` (a recency question): then the
    first is only the newest, and each gets the shorter one."""
    first, last = hits[0].rank, hits[-1].rank
    if first == 1:
        header = header or RLM + messages.ANSWER_HEADER
    else:
        page = messages.ANSWER_PAGE_HEADER.format(first=digits(first), last=digits(last))
        header = RLM + page
    if truncated_at is not None:
        note = messages.QUESTION_TRUNCATED.format(limit=digits(truncated_at))
        header = f"{RLM}{note}\n\n{header}"
    budget = (limit - tg_len(header) - 2 * len(hits)) // len(hits)
    ages = list(ages) or [None] * len(hits)
    blocks = [
        format_hit(hit, budget, age=ages[i])
        if i == 0 and not newest_first
        else format_hit(
            hit,
            budget,
            excerpt_chars=OTHER_EXCERPT_CHARS,
            title_chars=OTHER_TITLE_CHARS,
            age=ages[i],
        )
        for i, hit in enumerate(hits)
    ]
    return header + "\n" + "\n\n".join(blocks)  # no blank line under the header: height


def format_inline(question: str, hit: Hit, *, limit: int = TELEGRAM_LIMIT) -> str:
    """What choosing an inline result posts: the question, then the passage and its citation."""
    header = f"{RLM}❓ <i>{escape(shorten(question, 300))}</i>"
    return f"{header}\n\n{format_hit(hit, limit - tg_len(header) - 2, numbered=False)}"


def format_no_answer(closest: Sequence[Hit], *, truncated_at: int | None = None) -> str:
    """The honest "nothing relevant" reply, listing the closest article titles."""
    lines = [RLM + messages.NO_ANSWER]
    if truncated_at is not None:
        lines.insert(0, RLM + messages.QUESTION_TRUNCATED.format(limit=digits(truncated_at)))
    if not closest:
        hint = messages.NO_ANSWER_NOTHING.format(example=messages.EXAMPLE_QUESTIONS[1])
        return "\n".join([*lines, RLM + escape(hint)])
    lines += ["", RLM + messages.NO_ANSWER_CLOSEST]
    for hit in closest:
        title = shorten(hit.title, TITLE_CHARS) or messages.UNTITLED
        lines.append(f"{RLM}{digits(hit.rank)}. {link(title, hit.url)}")
    return "\n".join(lines)


# --- whole articles ---------------------------------------------------------------------------
def format_article(article: ArticleView, *, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """A whole article as messages of at most `limit` characters, split between paragraphs."""
    cited, body = article.citation, article.body
    tail = details(cited)
    header = f"{RLM}📄 <b>{link(shorten(cited.title, 300) or messages.UNTITLED, cited.url)}</b>"
    if tail:
        header += f"\n{RLM}{tail}"
    reserve = tg_len(header) + 80  # header and "(الجزء 1 من 2)" label
    chunks = split_plain(body, limit - reserve, _article_size) or [""]
    parts = []
    for i, chunk in enumerate(chunks):
        label = ""
        if len(chunks) > 1:
            label = messages.ARTICLE_PART.format(part=digits(i + 1), parts=digits(len(chunks)))
            label = f"{RLM}<i>{label}</i>\n"
        head = header + "\n\n" if i == 0 else ""
        parts.append(head + label + _tidy_paragraphs(escape(chunk)))
    return parts


def _article_size(text: str) -> int:
    """Escaped size plus the right-to-left mark `_tidy` puts at the start of every line."""
    return escaped_len(text) + text.count("\n") + 1


def _tidy_paragraphs(fragment: str) -> str:
    paragraphs = re.split(r"\n\s*\n", fragment.strip())
    return "\n\n".join(_tidy(p) for p in paragraphs if p.strip())
