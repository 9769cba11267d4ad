"""best_sentence: the sentence of a passage that answers the question."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.arcd_hybrid import best_sentence_with_vectors  # the option measured there
from retrieval.sentences import best_sentence

PASSAGE = (
    "جمال خاشقجي صحفي وإعلامي سعودي. "
    "ولد خاشقجي في المدينة المنورة عام 1958. "
    "كتب عموداً في صحيفة واشنطن بوست منذ عام 2017."
)


def spans_of(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for i, ch in enumerate(text):
        if ch == ".":
            spans.append((start, i + 1))
            start = i + 2
    return spans


SPANS = spans_of(PASSAGE)


def chosen(question: str, **kwargs) -> str | None:
    span = best_sentence(question, PASSAGE, SPANS, **kwargs)
    return None if span is None else PASSAGE[span[0] : span[1]]


def test_spans_fixture():
    assert len(SPANS) == 3 and PASSAGE[SPANS[2][0] :].startswith("كتب")


@pytest.mark.parametrize(
    ("question", "expected_start"),
    [
        ("في أي مدينة ولد خاشقجي؟", "ولد خاشقجي"),
        ("في أي صحيفة كتب خاشقجي عموده؟", "كتب عموداً"),
        ("ما هي مهنة جمال خاشقجي؟ صحفي أم إعلامي", "جمال خاشقجي"),
    ],
)
def test_picks_the_answering_sentence(question, expected_start):
    assert chosen(question).startswith(expected_start)


def test_topic_words_in_every_sentence_count_less():
    # "خاشقجي" is in all three sentences; "المنورة" decides.
    assert chosen("خاشقجي المدينة المنورة").startswith("ولد")


def test_fuzzy_match_on_a_morphological_variant():
    # "استقلت" (a verb) shares most character trigrams with "استقلال" (a noun).
    passage = "تقع تونس في شمال أفريقيا. نالت الاستقلال عام 1956."
    spans = spans_of(passage)
    span = best_sentence("متى استقلت البلاد؟", passage, spans)
    assert span == spans[1]


def test_no_evidence_gives_none():
    assert best_sentence("ما هو؟", PASSAGE, SPANS) is None
    assert chosen("كرة القدم البرازيلية") is None
    assert best_sentence("أين ولد؟", PASSAGE, []) is None


def test_dense_vectors_decide_when_words_do_not():
    vectors = np.eye(3, dtype=np.float32)
    span = best_sentence_with_vectors("كرة القدم", PASSAGE, SPANS, vectors, vectors[2])
    assert span == SPANS[2]


def test_vector_count_must_match_spans():
    with pytest.raises(ValueError):
        best_sentence_with_vectors(
            "أين ولد؟",
            PASSAGE,
            SPANS,
            np.zeros((2, 4), dtype=np.float32),
            np.zeros(4, dtype=np.float32),
        )


def test_longer_terms_weigh_more_when_equally_rare():
    passage = "زار الوفد المدينة. وقع الاتفاق في الرياض."
    spans = spans_of(passage)
    # "زار" (3 letters) and "اتفاق" (5 letters) each match one sentence.
    assert best_sentence("زار الاتفاق", passage, spans) == spans[1]


def test_close_calls_are_the_sentences_the_words_cannot_separate():
    from retrieval.sentences import close_calls

    passage = "زار الوزير الرياض أمس. وزار الوزير جدة اليوم. وافتتح الوزير المعرض."
    spans = spans_of(passage)
    tied = close_calls("أين زار الوزير؟", passage, spans)
    assert tied == spans[:2]  # both name the visit; the opening does not
    assert close_calls("كرة القدم", passage, spans) == []


def test_words_of_the_title_name_the_topic_not_the_answer():
    """The opening sentence names the article's subject; the answer is the sentence with the
    question's other words. Title words still count as evidence (a sentence with nothing else
    is chosen over none)."""
    passage = (
        "نهر النيل أطول أنهار قارة أفريقيا ويمر بعدة دول. "
        "يصب في البحر الأبيض المتوسط عند مدينة رشيد."
    )
    spans = spans_of(passage)
    question = "أين يصب نهر النيل؟"
    assert best_sentence(question, passage, spans) == spans[0]  # without the title
    assert best_sentence(question, passage, spans, title="نهر النيل") == spans[1]
    assert best_sentence("ما هو نهر النيل؟", passage, spans, title="نهر النيل") == spans[0]


def test_opening_cuts_at_a_space_within_the_limit():
    from retrieval.sentences import SENTENCE_CHARS, opening

    assert opening("", 10) == ""
    assert opening("كلمة كلمة كلمة", 14) == "كلمة كلمة كلمة"  # exactly the limit: whole
    assert opening("كلمة كلمة كلمة", 12) == "كلمة كلمة"  # never inside a word
    assert opening("ا" * 30, 10) == "ا" * 10  # no space at all: at the limit
    long = "خبر " * 100
    assert SENTENCE_CHARS is not None and len(opening(long)) <= SENTENCE_CHARS
    assert opening(long).endswith("خبر")
