"""Passage and sentence splitting on real Arabic news text."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import pytest

from corpus.split import PassageSpan, clean_text, split_passages, split_sentences

DATA = Path(__file__).resolve().parents[1] / "corpus" / "data"
BULLETS = (
    "تحسين آليات المراقبة الجوية",
    "إنشاء غرفة عمليات مشتركة",
    "تفكيك الهياكل المالية",
    "دعم برامج العودة الطوعية",
    "توفير الدعم اللوجستي",
)
HEADINGS = (
    "أطر التعاون الأمني بين ليبيا ومالطا",
    "جهود مكافحة الهجرة غير الشرعية",
    "تأمين الحدود وشبكات التهريب",
)
# 14 words; long_paragraph() numbers each copy, making 16-word sentences that all differ.
SENTENCE_WORDS = "أعلنت الوزارة اليوم عن خطة جديدة لتطوير البنية التحتية في المدن الكبرى خلال العام"


@pytest.fixture(scope="module")
def seed_body() -> str:
    raw = (DATA / "libya-malta-security.txt").read_text(encoding="utf-8")
    return clean_text(raw.partition("\n")[2])


def words(span: PassageSpan) -> int:
    return len(span.text.split())


def assert_exact(body: str, spans: list[PassageSpan]) -> None:
    for span in spans:
        assert body[span.char_start : span.char_end] == span.text
        assert span.text == span.text.strip() and span.text


def long_paragraph(sentences: int) -> str:
    return " ".join(f"{SENTENCE_WORDS} رقم {n}." for n in range(sentences))


def test_seed_lead_in_heading_and_bullets_share_one_passage(seed_body: str) -> None:
    spans = split_passages(seed_body)
    holders = [
        span
        for span in spans
        if "يعد ملف تدفقات المهاجرين" in span.text
        and "جهود مكافحة الهجرة غير الشرعية" in span.text
        and all(bullet in span.text for bullet in BULLETS)
    ]
    assert len(holders) == 1
    assert holders[0].text.startswith("جهود مكافحة الهجرة غير الشرعية\n")
    assert holders[0].text.endswith("لضمان مراعاة المعايير الإنسانية الدولية.")


def test_seed_headings_open_passages_and_sizes_fit(seed_body: str) -> None:
    spans = split_passages(seed_body)
    assert_exact(seed_body, spans)
    assert len(spans) == 4
    assert all(60 <= words(span) <= 200 for span in spans)
    for heading in HEADINGS:
        (holder,) = [span for span in spans if heading in span.text]
        assert not holder.text.endswith(heading)
    assert spans[1].text.startswith(HEADINGS[1])
    assert spans[2].text.startswith(HEADINGS[2])
    # The short first paragraph is merged with the next section rather than left alone.
    assert HEADINGS[0] in spans[0].text and spans[0].text.startswith("بحث وزير الداخلية")


def test_demo_articles_offsets_exact_and_within_max_words() -> None:
    lines = (DATA / "saudinewsnet_demo200.jsonl").read_text(encoding="utf-8").splitlines()
    total = 0
    for line in lines:
        body = clean_text(json.loads(line)["text"])
        spans = split_passages(body)
        assert_exact(body, spans)
        assert all(words(span) <= 200 for span in spans)
        covered = {w for span in spans for w in range(span.char_start, span.char_end)}
        assert all(i in covered for i, ch in enumerate(body) if not ch.isspace())
        total += len(spans)
    assert total > len(lines)  # long articles really are cut


def test_long_paragraph_windows_overlap_by_one_sentence() -> None:
    body = long_paragraph(40)  # 40 sentences x 16 words = 640 words, one paragraph
    spans = split_passages(body)
    assert_exact(body, spans)
    assert len(spans) >= 4
    assert all(words(span) <= 200 for span in spans)
    for before, after in pairwise(spans):
        last_sentence = before.text[before.text.rindex(SENTENCE_WORDS) :]
        assert after.text.startswith(last_sentence)
        assert after.char_start < before.char_end


def test_no_overlap_across_paragraphs() -> None:
    body = long_paragraph(15) + "\n\n" + long_paragraph(15)  # two 240-word paragraphs
    second = body.index("\n\n") + 2
    spans = split_passages(body)
    assert_exact(body, spans)
    first_half = [s for s in spans if s.char_start < second]
    second_half = [s for s in spans if s.char_start >= second]
    assert len(first_half) == len(second_half) == 2  # each paragraph cut once, with overlap
    assert first_half[1].char_start < first_half[0].char_end
    assert all(s.char_end <= second - 2 for s in first_half)
    assert second_half[0].char_start == second


def test_overlap_zero_gives_disjoint_passages() -> None:
    body = long_paragraph(40)
    spans = split_passages(body, overlap_sentences=0)
    for before, after in pairwise(spans):
        assert after.char_start > before.char_end


def test_sentence_longer_than_max_words_is_cut_at_word_boundaries() -> None:
    tokens = [f"كلمة{n}" for n in range(450)]
    body = " ".join(tokens)  # one sentence, no punctuation
    spans = split_passages(body)
    assert [words(span) for span in spans] == [200, 200, 50]
    assert [span.text.split() for span in spans] == [tokens[:200], tokens[200:400], tokens[400:]]


@pytest.mark.parametrize(("min_words", "max_words"), [(20, 50), (60, 200), (100, 120)])
def test_max_words_respected(min_words: int, max_words: int) -> None:
    body = long_paragraph(12) + "\nعنوان فرعي\n" + long_paragraph(15)
    spans = split_passages(body, min_words=min_words, max_words=max_words)
    assert_exact(body, spans)
    assert all(words(span) <= max_words for span in spans)
    assert not any(span.text.endswith("عنوان فرعي") for span in spans)


def test_lists_stay_with_their_lead_in() -> None:
    intro = long_paragraph(4)
    body = (
        f"{intro}\n\nوتشمل الخطة ما يلي:\n"
        "1. بناء مدارس جديدة في القرى\n2) تأهيل المعلمين\n١. توفير الكتب\n"
        "- دعم النقل المدرسي\n* تحسين التغذية\n– متابعة الأداء\n\n"
        f"{long_paragraph(4)}"
    )
    spans = split_passages(body)
    assert_exact(body, spans)
    (holder,) = [span for span in spans if "ما يلي:" in span.text]
    for item in ("بناء مدارس", "تأهيل المعلمين", "توفير الكتب", "النقل", "التغذية", "الأداء"):
        assert item in holder.text
    # The 26-word list is too short to stand alone, so it joins the paragraph before it.
    assert [words(span) for span in spans] == [90, 64]


def test_short_article_is_one_passage() -> None:
    body = "عنوان\n\nقالت الوزارة إن الخطة بدأت؟ نعم؛ بدأت أمس.\n\n- بند أول"
    assert split_passages(body) == [PassageSpan(body, 0, len(body))]
    assert split_passages("  \n ") == []


def test_clean_text_strips_invisible_and_normalizes_space() -> None:
    raw = (
        "\ufeff\u200fمرحبا\u200b\u00a0\u00a0بكم\u202b في\u2066 الموقع\u2069\u061c\u00ad\r\n"
        "\tسطر   ثان  \r\n\n\n\n\nسطر\u3000ثالث\x1a"
    )
    assert clean_text(raw) == "مرحبا بكم في الموقع\nسطر ثان\n\nسطر ثالث"


def test_clean_text_keeps_diacritics_and_applies_nfc() -> None:
    assert clean_text("مُحَمَّدٌ") == "مُحَمَّدٌ"
    assert clean_text("\u0627\u0654حمد") == "\u0623حمد"  # alef + hamza above composes to أ
    text = clean_text("  أ\u200cب \u202aج  \n\n\n\nد ")
    assert clean_text(text) == text == "أب ج\n\nد"


def test_split_sentences_arabic_punctuation() -> None:
    text = "هل حضر الوزير؟ نعم حضر؛ ثم غادر.  وبلغت النسبة 3.5 بالمئة!\nسطر بلا نقطة"
    got = [text[start:end] for start, end in split_sentences(text)]
    assert got == [
        "هل حضر الوزير؟",
        "نعم حضر؛",
        "ثم غادر.",
        "وبلغت النسبة 3.5 بالمئة!",
        "سطر بلا نقطة",
    ]


def test_split_sentences_keeps_numbers_urls_and_abbreviations() -> None:
    text = "قال د. أحمد إن النمو ٢.٥ في المئة، انظر sabq.org/x للتفاصيل. ووصل U.S. Army أمس."
    got = [text[start:end] for start, end in split_sentences(text)]
    assert got == [
        "قال د. أحمد إن النمو ٢.٥ في المئة، انظر sabq.org/x للتفاصيل.",
        "ووصل U.S. Army أمس.",
    ]


def test_split_sentences_spans_are_trimmed_and_closers_kept() -> None:
    text = "  قال «انتهى الأمر.» ثم سكت...المقبل.و تتناول \n\n 1. بند أول  "
    spans = split_sentences(text)
    got = [text[start:end] for start, end in spans]
    assert got == ["قال «انتهى الأمر.»", "ثم سكت...", "المقبل.", "و تتناول", "1. بند أول"]
    assert split_sentences("") == [] and split_sentences(" \n ") == []


def test_rejects_inconsistent_limits() -> None:
    with pytest.raises(ValueError):
        split_passages("نص", min_words=300, max_words=200)


def test_content_sentences_leave_out_headings():
    from corpus.split import content_sentences

    text = "جهود مكافحة الهجرة غير الشرعية\nتم الاتفاق على إنشاء غرفة عمليات مشتركة. ودعم العودة."
    spans = content_sentences(text)
    assert [text[s:e] for s, e in spans] == [
        "تم الاتفاق على إنشاء غرفة عمليات مشتركة.",
        "ودعم العودة.",
    ]
    assert content_sentences("عنوان فقط") == [(0, len("عنوان فقط"))]


def test_clean_text_decodes_html_character_references() -> None:
    assert clean_text("قال &#8220;نعم&#8221; &amp; &quot;لا&quot;") == 'قال “نعم” & "لا"'
    assert clean_text("5 &lt; 7") == "5 < 7"


def test_a_terminator_inside_parentheses_does_not_end_the_sentence() -> None:
    text = (
        "الدولة العثمانية (بالتركية العثمانية: دولت عليه؛ بالتركية الحديثة: Osmanlı Devleti) "
        "هي إمبراطورية إسلامية أسسها عثمان الأول. واستمرت قرونا."
    )
    sentences = [text[s:e] for s, e in split_sentences(text)]
    assert sentences == [text[: text.index("الأول.") + 6], "واستمرت قرونا."]
    # a stray opening bracket does not swallow the rest of a long paragraph
    stray = "قال (المصدر " + "كلام طويل جدا " * 40 + "انتهى. جملة ثانية."
    assert len(stray) > 300 and len(split_sentences(stray)) == 2
