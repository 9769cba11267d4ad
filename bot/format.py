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
from retrieval.types import ArticleView, Citation, CorpusStats, Hit

TELEGRAM_LIMIT = 4096
RLM = "\u200f"
EXCERPT_CHARS = 450  # raw characters of passage shown per hit when space allows
TITLE_CHARS = 160
SOURCE_CHARS = 60
URL_CHARS = 1000
ALSO_IN_SHOWN = 4
_ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b]+")
_BLANK_LINES = re.compile(r"\s*\n\s*")


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def arabic_digits(value: int | str) -> str:
    return str(value).translate(_ARABIC_DIGITS)


def format_date(value: datetime | None) -> str | None:
    """`2015-08-01` -> `١ أغسطس ٢٠١٥`."""
    if value is None:
        return None
    return arabic_digits(f"{value.day} {messages.MONTHS[value.month - 1]} {value.year}")


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
            articles=arabic_digits(stats.articles), sources=arabic_digits(len(stats.sources))
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
@dataclass(frozen=True)
class Excerpt:
    """A window of a passage: context before, the answer sentence, context after (raw text)."""

    before: str
    sentence: str
    after: str

    def html(self) -> str:
        core = self.sentence.strip()
        if not core:
            return _tidy(escape(self.before + self.sentence + self.after))
        lead, _, rest = self.sentence.partition(core)
        before, after = escape(self.before + lead), escape(rest + self.after)
        return _tidy(f"{before}<b>{escape(core)}</b>{after}")


def excerpt(text: str, span: tuple[int, int] | None, budget: int) -> Excerpt:
    """The answer sentence with as much surrounding context as `budget` characters allow."""
    start, end = span if span is not None else (0, 0)
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    sentence = text[start:end]
    if len(sentence.strip()) >= budget:
        return Excerpt("…" if start > 0 else "", cut_at_word(sentence.strip(), budget), "")
    room = budget - len(sentence)
    before_room = min(start, room // 3)
    after_room = min(len(text) - end, room - before_room)
    before_room = min(start, room - after_room)
    before = _cut_start(text[:start], before_room)
    after = cut_at_word(text[end:], after_room)
    if len(before) < start:
        before = "…" + before.lstrip()
    if end + len(after) < len(text.rstrip()):
        after = after.rstrip() + "…"
    return Excerpt(before, sentence, after)


def cut_at_word(text: str, limit: int) -> str:
    """The head of `text`, at most `limit` characters, ending at a word boundary if possible."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    return cut[:space] if space > limit // 2 else cut


def _cut_start(text: str, limit: int) -> str:
    """The tail of `text`, at most `limit` characters, starting at a sentence or word start."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    cut = text[len(text) - limit :]
    boundary = SENTENCE_END.search(cut)
    if boundary and boundary.end() < len(cut):
        return cut[boundary.end() :]
    space = cut.find(" ")
    return cut[space + 1 :] if 0 <= space < limit // 2 else cut


def _tidy(fragment: str) -> str:
    """Collapse runs of spaces, keep single line breaks, start every line right to left."""
    lines = _BLANK_LINES.split(_SPACES.sub(" ", fragment).strip())
    return "\n".join(RLM + line.strip() for line in lines if line.strip())


# --- hits -------------------------------------------------------------------------------------
def _link(title: str, url: str | None) -> str:
    if url and url.startswith(("http://", "https://")) and len(url) <= URL_CHARS:
        return f'<a href="{html.escape(url, quote=True)}">{escape(title)}</a>'
    return f"<i>{escape(title)}</i>"


def citation(cited: Citation) -> str:
    """`📰 <a href=url>title</a> — source، date` (HTML, one line)."""
    title = shorten(cited.title, TITLE_CHARS) or messages.UNTITLED
    tail = _details(cited)
    return f"{RLM}📰 {_link(title, cited.url)}" + (f" — {tail}" if tail else "")


def _details(cited: Citation) -> str:
    """`source، date` (escaped), or "" when the article has neither."""
    source = shorten(cited.source, SOURCE_CHARS) if cited.source else None
    return "، ".join(escape(d) for d in (source, format_date(cited.published_at)) if d)


def also_published(refs: Sequence[Citation]) -> str:
    """`نُشر أيضاً في: <a>source</a>، …` for duplicate stories in other outlets."""
    names = [
        _link(shorten(ref.source or ref.title, SOURCE_CHARS), ref.url)
        for ref in refs[:ALSO_IN_SHOWN]
    ]
    if len(refs) > ALSO_IN_SHOWN:
        names.append(arabic_digits(f"+{len(refs) - ALSO_IN_SHOWN}"))
    return RLM + "↩️ " + messages.ALSO_PUBLISHED.format(sources="، ".join(names))


def format_hit(hit: Hit, budget: int, *, numbered: bool = True) -> str:
    """One hit as an HTML block of at most `budget` characters: excerpt, citation, other outlets."""
    number = f"<b>{arabic_digits(hit.rank)}.</b> " if numbered else ""
    meta = citation(hit.citation)
    if hit.also_in:
        meta += "\n" + also_published(hit.also_in)
    if tg_len(meta) > budget // 2:  # pathological metadata: keep the title only, short
        meta = citation(Citation(hit.article_id, shorten(hit.title, 40)))
    room = budget - tg_len(meta) - tg_len(number) - 2
    chars = min(EXCERPT_CHARS, room)
    while True:
        body = excerpt(hit.text, hit.answer_span, max(chars, 0)).html()
        size = tg_len(body)
        if size <= room or chars <= 0:
            break
        chars = min(chars - 10, chars * room // size)
    text = body.removeprefix(RLM)
    return f"{RLM}{number}{text}\n{meta}" if text else f"{RLM}{number}{meta.removeprefix(RLM)}"


def format_answer(
    hits: Sequence[Hit], *, truncated_at: int | None = None, limit: int = TELEGRAM_LIMIT
) -> str:
    """A page of hits as one message; the first page gets the plain header."""
    first, last = hits[0].rank, hits[-1].rank
    if first == 1:
        header = RLM + messages.ANSWER_HEADER
    else:
        page = messages.ANSWER_PAGE_HEADER.format(
            first=arabic_digits(first), last=arabic_digits(last)
        )
        header = RLM + page
    if truncated_at is not None:
        note = messages.QUESTION_TRUNCATED.format(limit=arabic_digits(truncated_at))
        header = f"{RLM}{note}\n\n{header}"
    budget = (limit - tg_len(header) - 2 * len(hits)) // len(hits)
    return "\n\n".join([header, *(format_hit(hit, budget) for hit in hits)])


def format_inline(question: str, hit: Hit, *, limit: int = TELEGRAM_LIMIT) -> str:
    """What choosing an inline result posts: the question, then the passage and its citation."""
    header = f"{RLM}❓ <i>{escape(shorten(question, 300))}</i>"
    return f"{header}\n\n{format_hit(hit, limit - tg_len(header) - 2, numbered=False)}"


def format_no_answer(closest: Sequence[Hit], *, truncated_at: int | None = None) -> str:
    """The honest "nothing relevant" reply, listing the closest article titles."""
    lines = [RLM + messages.NO_ANSWER]
    if truncated_at is not None:
        lines.insert(0, RLM + messages.QUESTION_TRUNCATED.format(limit=arabic_digits(truncated_at)))
    if not closest:
        return "\n".join([*lines, RLM + messages.NO_ANSWER_NOTHING])
    lines += ["", RLM + messages.NO_ANSWER_CLOSEST]
    for hit in closest:
        title = shorten(hit.title, TITLE_CHARS) or messages.UNTITLED
        lines.append(f"{RLM}{arabic_digits(hit.rank)}. {_link(title, hit.url)}")
    return "\n".join(lines)


# --- whole articles ---------------------------------------------------------------------------
def format_article(article: ArticleView, *, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """A whole article as messages of at most `limit` characters, split between paragraphs."""
    cited, body = article.citation, article.body
    details = _details(cited)
    header = f"{RLM}📄 <b>{_link(shorten(cited.title, 300) or messages.UNTITLED, cited.url)}</b>"
    if details:
        header += f"\n{RLM}{details}"
    reserve = tg_len(header) + 80  # header and "(الجزء ١ من ٢)" label
    chunks = split_plain(body, limit - reserve, _article_size) or [""]
    parts = []
    for i, chunk in enumerate(chunks):
        label = ""
        if len(chunks) > 1:
            label = messages.ARTICLE_PART.format(
                part=arabic_digits(i + 1), parts=arabic_digits(len(chunks))
            )
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
