"""bot.format and bot.textsplit: escaping, excerpts, the 4096 limit, clean splits, RTL lines."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from bot import messages
from bot.format import (
    RLM,
    TELEGRAM_LIMIT,
    excerpt,
    format_answer,
    format_article,
    format_date,
    format_hit,
    format_inline,
    format_no_answer,
    format_welcome,
    shorten,
)
from bot.textsplit import escaped_len, split_plain, tg_len
from retrieval.types import ArticleView, Citation, CorpusStats, Hit

ALLOWED_TAGS = {"b", "i", "a"}


class _TelegramHtml(HTMLParser):
    """Collects visible text; fails on tags Telegram would reject or that do not nest."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in ALLOWED_TAGS, tag
        if tag == "a":
            self.links.append(dict(attrs)["href"] or "")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, f"unbalanced </{tag}>"

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def visible(fragment: str) -> _TelegramHtml:
    """Parse Telegram HTML strictly: no raw & or > outside entities, balanced allowed tags."""
    assert not re.search(r"&(?!(lt|gt|amp|quot);)", fragment), "unescaped &"
    assert ">" not in re.sub(r"<[^<>]*>", "", fragment), "unescaped >"
    parser = _TelegramHtml()
    parser.feed(fragment)
    parser.close()
    assert not parser.stack, f"unclosed tags {parser.stack}"
    return parser


PASSAGE = (
    "بحث وزير الداخلية مع السفير المالطي آليات التعاون الأمني بين البلدين. "
    "واتفق الجانبان على إنشاء غرفة عمليات مشتركة لتبادل البلاغات. "
    "كما ناقشا برامج العودة الطوعية للمهاجرين بالتنسيق مع المنظمات الدولية."
)


class Gate:
    """Stands in for retrieval.gate.Evidence: only the relevance the bot reads."""

    def __init__(self, relevance: float) -> None:
        self.relevance = relevance


def make_hit(rank: int = 1, text: str = PASSAGE, **kw: object) -> Hit:
    sentence = "واتفق الجانبان على إنشاء غرفة عمليات مشتركة لتبادل البلاغات."
    start = text.find(sentence)
    cited: dict[str, object] = {
        "article_id": 10 + rank,
        "title": "تعاون أمني بين ليبيا ومالطا",
        "source": "بوابة الوسط",
        "url": "https://example.com/article?id=1&lang=ar",
        "published_at": datetime(2024, 3, 5, tzinfo=UTC),
    }
    fields: dict[str, object] = {
        "rank": rank,
        "score": 0.9,
        "passage_id": rank,
        "text": text,
        "dense_score": 0.9,
        "evidence": Gate(0.9),
        "answer_span": (start, start + len(sentence)) if start >= 0 else None,
    }
    for key, value in kw.items():
        (cited if key in cited else fields)[key] = value
    return Hit(citation=Citation(**cited), **fields)  # type: ignore[arg-type]


def test_answer_bolds_the_answer_sentence_and_cites_the_article() -> None:
    message = format_answer([make_hit()])
    parsed = visible(message)
    assert "<b>واتفق الجانبان على إنشاء غرفة عمليات مشتركة لتبادل البلاغات.</b>" in message
    assert parsed.links == ["https://example.com/article?id=1&lang=ar"]
    assert "بوابة الوسط" in message and "٥ مارس ٢٠٢٤" in message
    assert message.startswith(RLM + messages.ANSWER_HEADER)


def test_every_piece_of_corpus_text_is_escaped() -> None:
    evil = '<script>alert("x")</script> & <b>bold</b> 5 > 3'
    hit = make_hit(
        text=f"{evil} {PASSAGE}",
        title=evil,
        source=evil,
        url='https://evil.example/"><script>',
        also_in=(Citation(5, evil, evil, "javascript:alert(1)", None),),
    )
    message = format_answer([hit], truncated_at=1000)
    parsed = visible(message)
    assert "<script>" not in message
    assert parsed.links == ['https://evil.example/"><script>']  # escaped inside the attribute
    assert evil in "".join(parsed.text)
    assert "javascript:" not in message  # not a link: only http(s) URLs become links


def test_every_line_starts_right_to_left() -> None:
    hit = make_hit(title="Reuters report", source="Reuters", text="10 people\n" + PASSAGE)
    for line in format_answer([hit]).split("\n"):
        assert line == "" or line.startswith(RLM), line


@pytest.mark.parametrize("k", [1, 3, 10])
def test_a_page_always_fits_one_message(k: int) -> None:
    huge = "&<>" * 5000 + " " + PASSAGE + " كلمة" * 3000
    refs = tuple(
        Citation(i, "&" * 300, "<" * 300, "https://x.example/" + "a" * 900, None) for i in range(9)
    )
    hits = [make_hit(i + 1, text=huge, title="&" * 1000, also_in=refs) for i in range(k)]
    message = format_answer(hits, truncated_at=1000)
    assert tg_len(message) <= TELEGRAM_LIMIT
    visible(message)
    assert message.count("📰") == k


def test_excerpt_keeps_the_sentence_and_context_within_budget() -> None:
    text = ("جملة تمهيدية طويلة. " * 40) + "الجواب هنا بالتحديد. " + ("جملة لاحقة. " * 40)
    start = text.index("الجواب")
    span = (start, start + len("الجواب هنا بالتحديد."))
    cut = excerpt(text, span, 200)
    assert cut.sentence == "الجواب هنا بالتحديد."
    assert cut.before.startswith("…") and cut.after.endswith("…")
    assert len(cut.before) + len(cut.sentence) + len(cut.after) <= 204
    assert not cut.before.startswith("…تمهيدية")  # starts at a sentence or word boundary


def test_excerpt_without_a_span_shows_the_start() -> None:
    cut = excerpt(PASSAGE, None, 60)
    assert cut.sentence == "" and PASSAGE.startswith(cut.after.rstrip("…"))


def test_excerpt_of_an_overlong_sentence_is_cut_at_a_word() -> None:
    sentence = "كلمة " * 200
    cut = excerpt(sentence, (0, len(sentence)), 100)
    assert len(cut.sentence) <= 100 and cut.sentence.endswith("كلمة")


def test_no_answer_lists_the_closest_titles_honestly() -> None:
    message = format_no_answer([make_hit(1, title="<عنوان أول>"), make_hit(2, url=None)])
    parsed = visible(message)
    assert messages.NO_ANSWER in message and messages.NO_ANSWER_CLOSEST in message
    assert "<عنوان أول>" in "".join(parsed.text)
    assert "واتفق الجانبان" not in message  # no weak passages presented as answers
    assert messages.NO_ANSWER_NOTHING in format_no_answer([])


def test_inline_result_carries_question_passage_and_citation() -> None:
    message = format_inline("سؤال <عن> الهجرة", make_hit())
    visible(message)
    assert "سؤال &lt;عن&gt; الهجرة" in message and "📰" in message


def test_five_thousand_character_article_is_sent_in_clean_parts() -> None:
    paragraphs = [f"الفقرة {i}: " + "نص عربي طويل عن التعاون الأمني. " * 12 for i in range(14)]
    body = "\n\n".join(paragraphs)
    assert len(body) > 5000
    cited = Citation(1, "عنوان & <مقال>", "المصدر", "https://e.example/a", None)
    parts = format_article(ArticleView(cited, body))
    assert len(parts) >= 2
    for part in parts:
        assert tg_len(part) <= TELEGRAM_LIMIT
        visible(part)
    text = "".join("".join(visible(p).text) for p in parts)
    for paragraph in paragraphs:  # no paragraph was cut in the middle
        assert paragraph.strip() in text
    assert "(الجزء ١ من" in parts[0] and "عنوان &amp; &lt;مقال&gt;" in parts[0]


def test_split_plain_respects_the_limit_and_loses_nothing() -> None:
    text = "أ" * 50 + " " + ("كلمة & " * 400) + "\n\n" + "ب" * 3000
    chunks = split_plain(text, 500)
    assert all(escaped_len(c) <= 500 for c in chunks)
    assert "".join(chunks).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace(
        "\n", ""
    )
    assert all(not c.startswith("مة") for c in chunks)  # words are not split when avoidable
    assert split_plain("   ", 10) == []


def test_dates_and_shortening() -> None:
    assert format_date(datetime(2015, 8, 1)) == "١ أغسطس ٢٠١٥"
    assert format_date(None) is None
    assert shorten("كلمة " * 50, 20).endswith("…") and len(shorten("كلمة " * 50, 20)) <= 20


def test_welcome_says_what_the_bot_knows() -> None:
    stats = CorpusStats(201, 900, ["سبق", "عكاظ"], datetime(2015, 1, 2), datetime(2015, 8, 1))
    message = format_welcome(stats)
    visible(message)
    assert "٢٠١" in message and "سبق، عكاظ" in message and "٢ يناير ٢٠١٥" in message
    assert messages.INDEX_EMPTY in format_welcome(None)


def test_format_hit_respects_a_tight_budget() -> None:
    block = format_hit(make_hit(text=PASSAGE * 20), 300)
    assert tg_len(block) <= 300
    visible(block)
    assert html.unescape(block).count("📰") == 1


def test_reindex_progress_says_rate_and_time_left() -> None:
    from bot.admin import format_progress

    text = format_progress(300, 1200, 60.0)  # 5 passages/s, 900 left
    assert "٣٠٠ من ١٢٠٠ (٢٥٪)" in text
    assert "بمعدل ٥٫٠ مقطع في الثانية" in text or "بمعدل ٥.٠ مقطع في الثانية" in text
    assert "الوقت المتبقي ٣ دقائق" in text
    assert "ساعتان" in format_progress(100, 72_100, 10.0)  # 7,200 s left
    assert "١٢ ساعة" in format_progress(10, 432_010, 1.0)
    assert "٤٥ ثانية" in format_progress(10, 100, 5.0)
    assert messages.STATS_NONE in format_progress(0, 10, 5.0)
