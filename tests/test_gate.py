"""The answer gate weighs the cosine with lexical evidence, question length and script."""

from __future__ import annotations

from bot.settings import DEFAULT_MIN_RELEVANCE
from retrieval.gate import Evidence, evidence, is_arabic, question_terms

T = DEFAULT_MIN_RELEVANCE


def passes(dense: float, coverage: float, terms: int = 5, arabic: bool = True) -> bool:
    return Evidence(dense, coverage, terms, arabic).relevance >= T


def test_lexical_evidence_lowers_the_cosine_needed() -> None:
    # a passage with none of the question's words and a merely good cosine is not an answer
    assert not passes(0.85, 0.0)
    # a name-only question whose name the passage carries passes at the cosine names get
    assert passes(0.82, 1.0, terms=1)
    # full coverage, high cosine: an answer; weak cosine even with the words: not
    assert passes(0.88, 1.0)
    assert not passes(0.70, 1.0)


def test_questions_in_other_scripts_are_judged_on_the_cosine() -> None:
    # English over the Arabic corpus: no Arabic terms can match, the cosine is lower
    assert passes(0.80, 0.0, terms=6, arabic=False)
    assert not passes(0.74, 0.0, terms=6, arabic=False)


def test_relevance_grows_with_each_piece_of_evidence() -> None:
    base = Evidence(0.82, 0.5, 4, True).relevance
    assert Evidence(0.86, 0.5, 4, True).relevance > base
    assert Evidence(0.82, 0.9, 4, True).relevance > base
    assert 0.0 < base < 1.0


def test_evidence_of_a_hit() -> None:
    question = "كم سيغيب سامي خضيرة عن الملاعب؟"
    terms = question_terms(question)
    hit = evidence(question, terms, 0.9, "يوفنتوس : خضيرة يغيب", "يغيب خضيرة شهرين عن الملاعب")
    assert hit.coverage >= 0.5 and hit.arabic and hit.terms == len(terms)
    other = evidence(question, terms, 0.9, "الطقس", "أمطار رعدية على المرتفعات")
    assert other.coverage == 0.0
    assert is_arabic("ما الخبر؟") and not is_arabic("What happened?")
