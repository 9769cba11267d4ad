"""The light stemmer merges inflections of one word and keeps unrelated words apart."""

from __future__ import annotations

import pytest

from retrieval.arabic import analyze_document


def term(word: str) -> str:
    (only,) = analyze_document(word)
    return only


MUST_MERGE = [
    ("البحرين", "البحرينية"),
    ("البحرين", "بحرين"),
    ("فلسطين", "الفلسطينية"),
    ("فلسطين", "وفلسطين"),
    ("لبنان", "ولبنان"),
    ("الصين", "صين"),
    ("السودان", "سودان"),
    ("خمسين", "خمسون"),
    ("عشرين", "عشرون"),
    ("تسعين", "التسعين"),
    ("مئتين", "مائتان"),
    ("سلمان", "وسلمان"),
    ("الجامعة", "الجامعه"),  # ه written for ة
    ("الجامعة", "جامعة"),
    ("المدينة", "والمدينة"),
    ("المعلمون", "المعلمين"),
    ("المعلمات", "معلم"),
    ("الاقتصاد", "والاقتصاد"),
    ("اللاعبين", "لاعبون"),
    ("كتابها", "كتابهم"),
    ("الأمن", "الامن"),
    ("الحكومة", "حكومة"),
    ("القاهرة", "والقاهرة"),
    ("الشركات", "شركات"),
]

MUST_NOT_MERGE = [
    ("لبنان", "اللبن"),  # Lebanon / milk
    ("البحرين", "البحر"),  # Bahrain / the sea
    ("فلسطين", "فلسط"),
    ("سلمان", "السلم"),  # Salman / peace
    ("الجامعة", "الجامع"),  # university / mosque
    ("خمسين", "خمس"),  # fifty / five
    ("عشرين", "عشر"),  # twenty / ten
    ("ستين", "ست"),  # sixty / six
    ("ثمانين", "ثمان"),
    ("أربعين", "أربع"),
    ("عثمان", "عثم"),
    ("سليمان", "سليم"),  # Sulaiman / Salim
    ("عمران", "عمر"),  # Imran / Omar
    ("رمضان", "رمض"),
    ("حسين", "حسن"),  # Hussein / Hassan
    ("ياسين", "ياس"),
    ("إيران", "إير"),
    ("اليابان", "الياب"),
    ("البصرة", "البصر"),  # Basra / sight
    ("القاهرة", "القاهر"),
    ("الإسكندرية", "الإسكندر"),
    ("سلطان", "السلطة"),  # Sultan / authority
    ("المدينة", "المدين"),  # city / debtor
    ("أمين", "أمن"),  # Amin / security
    ("تايوان", "تاي"),
    ("برلين", "برل"),
    ("نجران", "نجر"),
    ("جازان", "جاز"),
]


@pytest.mark.parametrize(("a", "b"), MUST_MERGE)
def test_inflections_of_one_word_merge(a: str, b: str) -> None:
    assert term(a) == term(b)


@pytest.mark.parametrize(("a", "b"), MUST_NOT_MERGE)
def test_unrelated_words_stay_apart(a: str, b: str) -> None:
    assert term(a) != term(b)


def test_milk_sentence_does_not_answer_a_question_on_lebanon() -> None:
    from corpus.split import split_sentences
    from retrieval.sentences import best_sentence

    passage = "ارتفعت أسعار اللبن في الأسواق هذا الأسبوع. ووصل وزير الخارجية إلى لبنان أمس."
    spans = split_sentences(passage)
    chosen = best_sentence("ماذا حدث في لبنان؟", passage, spans)
    assert chosen is not None and "لبنان" in passage[chosen[0] : chosen[1]]
