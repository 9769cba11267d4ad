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
    counted,
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

    def __init__(self, relevance: float, coverage: float = 1.0) -> None:
        self.relevance = relevance
        self.coverage = coverage


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
    assert "بوابة الوسط" in message and "5\u00a0مارس\u00a02024" in message
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
    assert evil in "".join(parsed.text).translate({0x2066: None, 0x2069: None})  # invisible
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


LIST_PASSAGE = (
    "جهود مكافحة الهجرة غير الشرعية\n"
    "يعد ملف تدفقات المهاجرين محورًا أساسيًا في المباحثات نظرًا لموقع الدولتين؛ حيث تم الاتفاق "
    "على تعزيز التنسيق الميداني عبر عدة محاور:\n"
    "• تحسين آليات المراقبة الجوية والبحرية.\n"
    "• إنشاء غرفة عمليات مشتركة لتبادل البلاغات.\n"
    "• تفكيك الهياكل المالية لشبكات الاتجار بالبشر.\n"
    "تظل التحركات الدبلوماسية ركيزة أساسية لتثبيت الاستقرار في المنطقة."
)


def layout(text: str):
    from corpus.split import sentence_layout

    return sentence_layout(text)


def span_of(text: str, sentence: str) -> tuple[int, int]:
    start = text.index(sentence)
    return start, start + len(sentence)


def assert_whole_sentences(text: str, cut) -> None:
    """Every shown piece is a whole sentence of the text, or «…», or the space between two."""
    sentences = {text[s.start : s.end] for s in layout(text)}
    for part, _ in cut.parts:
        piece = part.strip()
        assert piece in sentences or piece == "…" or not piece, piece


def test_excerpt_is_whole_sentences_around_the_answer_within_budget() -> None:
    text = ("جملة تمهيدية طويلة. " * 40) + "الجواب هنا بالتحديد. " + ("جملة لاحقة. " * 40)
    span = span_of(text, "الجواب هنا بالتحديد.")
    for sentences in (layout(text), ()):  # with the hit's layout, and without one
        cut = excerpt(text, span, 200, sentences)
        assert cut.sentence == "الجواب هنا بالتحديد."
        assert cut.text.startswith("… ") and cut.text.endswith(" …")
        assert len(cut.text) <= 200
        assert "جملة لاحقة." in cut.text and "جملة تمهيدية طويلة." in cut.text
        assert_whole_sentences(text, cut)


def test_excerpt_keeps_a_lists_lead_in_and_the_items_of_a_lead_in() -> None:
    text = LIST_PASSAGE
    lead = "حيث تم الاتفاق على تعزيز التنسيق الميداني عبر عدة محاور:"
    cut = excerpt(text, span_of(text, lead), 250, layout(text))
    assert cut.sentence == lead
    assert "• تحسين آليات المراقبة الجوية والبحرية." in cut.text
    assert "• إنشاء غرفة عمليات مشتركة لتبادل البلاغات." in cut.text
    assert_whole_sentences(text, cut)
    item = "• تفكيك الهياكل المالية لشبكات الاتجار بالبشر."
    cut = excerpt(text, span_of(text, item), 150, layout(text))
    assert cut.sentence == item and lead in cut.text
    assert cut.text.index(lead) < cut.text.index("…", cut.text.index(lead)) < cut.text.index(item)
    assert_whole_sentences(text, cut)


def test_excerpt_never_cuts_inside_a_word_and_marks_every_cut() -> None:
    text = LIST_PASSAGE
    for sentence in layout(text):
        for budget in range(40, 400, 7):
            cut = excerpt(text, (sentence.start, sentence.end), budget, layout(text))
            shown = cut.text
            if cut.sentence != text[sentence.start : sentence.end]:  # too long even alone
                assert shown.endswith("…") and len(shown) <= budget + 2
                head = cut.sentence
                assert text[sentence.start : sentence.end].startswith(head)
                assert text[sentence.start + len(head)] == " "  # cut at a word boundary
                continue
            assert len(shown) <= budget
            assert_whole_sentences(text, cut)
            kept = [s for s in layout(text) if text[s.start : s.end] in shown]
            if kept[0].start > 0:
                assert shown.startswith("…")
            if text[kept[-1].end :].strip():
                assert shown.endswith("…")


def test_excerpt_without_a_span_shows_the_start() -> None:
    cut = excerpt(PASSAGE, None, 60)
    assert cut.sentence == "" and PASSAGE.startswith(cut.text.rstrip(" …"))


def test_excerpt_of_an_overlong_sentence_is_cut_at_a_word() -> None:
    sentence = "كلمة " * 200
    cut = excerpt(sentence, (0, len(sentence)), 100)
    assert len(cut.sentence) <= 100 and cut.sentence.endswith("كلمة")
    assert cut.text.endswith("…")


def test_no_answer_lists_the_closest_titles_honestly() -> None:
    message = format_no_answer([make_hit(1, title="<عنوان أول>"), make_hit(2, url=None)])
    parsed = visible(message)
    assert messages.NO_ANSWER in message and messages.NO_ANSWER_CLOSEST in message
    assert "<عنوان أول>" in "".join(parsed.text)
    assert "واتفق الجانبان" not in message  # no weak passages presented as answers
    assert messages.NO_ANSWER_NOTHING.split("«")[0] in format_no_answer([])


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
    assert "(الجزء 1 من" in parts[0] and "عنوان &amp; &lt;مقال&gt;" in parts[0]


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
    assert format_date(datetime(2015, 8, 1)) == "1\u00a0أغسطس\u00a02015"
    assert format_date(None) is None
    assert shorten("كلمة " * 50, 20).endswith("…") and len(shorten("كلمة " * 50, 20)) <= 20


def test_welcome_says_what_the_bot_knows() -> None:
    stats = CorpusStats(201, 900, ["سبق", "عكاظ"], datetime(2015, 1, 2), datetime(2015, 8, 1))
    message = format_welcome(stats)
    visible(message)
    assert "201" in message and "سبق، عكاظ" in message and "2\u00a0يناير\u00a02015" in message
    assert messages.INDEX_EMPTY in format_welcome(None)


def test_format_hit_respects_a_tight_budget() -> None:
    block = format_hit(make_hit(text=PASSAGE * 20), 300)
    assert tg_len(block) <= 300
    visible(block)
    assert html.unescape(block).count("📰") == 1


def test_reindex_progress_says_rate_and_time_left() -> None:
    from bot.admin import format_progress

    text = format_progress(300, 1200, 60.0)  # 5 passages/s, 900 left
    assert "300 من 1200 (25%)" in text
    assert "بمعدل 5.0 مقطع في الثانية" in text
    assert "الوقت المتبقي 3 دقائق" in text
    assert "ساعتان" in format_progress(100, 72_100, 10.0)  # 7,200 s left
    assert "12 ساعة" in format_progress(10, 432_010, 1.0)
    assert "45 ثانية" in format_progress(10, 100, 5.0)
    assert messages.STATS_NONE in format_progress(0, 10, 5.0)


def test_left_to_right_runs_commands_and_links_are_isolated() -> None:
    from bot.format import LRI, PDI, isolate

    assert (
        isolate("طائرة من طراز (B777-300ER) هبطت") == f"طائرة من طراز ({LRI}B777-300ER{PDI}) هبطت"
    )
    assert isolate("فاز Real Madrid 2-1 أمس") == f"فاز {LRI}Real Madrid 2-1{PDI} أمس"
    assert isolate("راسلوا a.b@x.com أو https://sabq.org/x?id=3") == (
        f"راسلوا {LRI}a.b@x.com{PDI} أو {LRI}https://sabq.org/x?id=3{PDI}"
    )
    assert isolate("شركة Google أعلنت") == "شركة Google أعلنت"  # a lone word needs nothing
    assert isolate("نص عربي فقط 2015") == "نص عربي فقط 2015"
    assert f"{LRI}/ask{PDI}" in messages.HELP and "/ask" not in messages.HELP.replace(LRI + "/", "")
    hit = make_hit(1, text="هبطت طائرة (B777-300ER) في المطار. وقال المسؤول إن الرحلة تأخرت.")
    assert f"{LRI}B777-300ER{PDI}" in format_answer([hit])


def test_dates_never_break_and_digits_are_western() -> None:
    date = format_date(datetime(2015, 8, 7))
    assert date == "7\u00a0أغسطس\u00a02015" and " " not in date
    message = format_answer([make_hit(1), make_hit(2)])
    assert not re.search("[\u0660-\u0669]", message)


def test_excerpt_with_no_room_for_a_word_shows_no_empty_bold() -> None:
    text = "جملة أولى. جملة ثانية طويلة جدا جدا. جملة ثالثة."
    cut = excerpt(text, (11, 36), 3)
    assert cut.text == "…" and "<b></b>" not in cut.html()


def test_counted_seconds_agree_with_their_number() -> None:
    forms = messages.SECONDS
    assert [counted(n, forms) for n in (1, 2, 3, 10, 11, 45)] == [
        "ثانية واحدة",
        "ثانيتان",
        "3 ثوانٍ",
        "10 ثوانٍ",
        "11 ثانية",
        "45 ثانية",
    ]


def test_a_newest_first_page_gives_every_hit_the_shorter_excerpt() -> None:
    long = " ".join(f"جملة رقم {i} في خبر طويل عن تعاون أمني بين البلدين." for i in range(30))
    hits = [make_hit(rank, text=long, answer_span=(0, 44)) for rank in (1, 2, 3)]

    def blocks(message: str) -> list[int]:  # the header line dropped
        return [tg_len(b) for b in message.split("\n", 1)[1].split("\n\n")]

    ranked, newest = blocks(format_answer(hits)), blocks(format_answer(hits, newest_first=True))
    assert ranked[0] > ranked[1] + 50  # by relevance: the first hit says most
    assert abs(newest[0] - newest[1]) <= 2 and newest[1:] == ranked[1:]
