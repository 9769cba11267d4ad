"""Pick the sentence of a passage that best answers a question — pure functions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Final

from retrieval.arabic import analyze_document, analyze_query

# A query term absent from a sentence still earns PARTIAL_CREDIT x similarity when a sentence
# term shares enough character trigrams with it (تحد ~ يحد, انسحبت ~ انسحاب). On ARCD-train:
# exact overlap 0.811 answer_in_sentence, with fuzzy matches 0.820.
FUZZY_THRESHOLD: Final = 0.4
PARTIAL_CREDIT: Final = 0.5
# Longer terms are rarer across a corpus; the passage alone cannot tell, so length stands in.
_LENGTH_CAP: Final = 6


def best_sentence(
    question: str, passage: str, spans: Sequence[tuple[int, int]]
) -> tuple[int, int] | None:
    """The span in `spans` (sentences of `passage`) that best answers `question`, or None.

    Score: question terms found in the sentence, each weighted by its rarity among the
    passage's sentences and by its length. None when no sentence has any evidence.
    """
    if not spans:
        return None
    scores = sentence_scores(question, [passage[start:end] for start, end in spans])
    if not any(scores):
        return None
    # max() keeps the first of equal scores: earlier sentences win ties.
    best = max(range(len(spans)), key=scores.__getitem__)
    return spans[best]


def sentence_scores(question: str, sentences: Sequence[str]) -> list[float]:
    """One evidence score per sentence (see `best_sentence`); 0 where no question term is."""
    terms = list(dict.fromkeys(analyze_query(question)))
    if not terms:
        return [0.0] * len(sentences)
    sentence_terms = [set(analyze_document(sentence)) for sentence in sentences]
    count = len(sentences)
    weights = {}
    for term in terms:
        df = sum(term in found for found in sentence_terms)
        # Terms in every sentence (the passage's topic) say little about which one answers.
        weights[term] = math.log(1 + count / max(df, 0.5)) * min(len(term), _LENGTH_CAP) / 4
    return [
        math.fsum(weights[term] * _match(term, found) for term in terms) for found in sentence_terms
    ]


def _match(term: str, found: set[str]) -> float:
    """1 for an exact match; partial credit for the most similar sentence term; else 0."""
    if term in found:
        return 1.0
    if len(term) < 3 or not found:
        return 0.0
    similarity = max(_jaccard(term, other) for other in found)
    return PARTIAL_CREDIT * similarity if similarity >= FUZZY_THRESHOLD else 0.0


def _jaccard(a: str, b: str) -> float:
    ga, gb = _trigrams(a), _trigrams(b)
    return len(ga & gb) / len(ga | gb)


@lru_cache(maxsize=1 << 16)
def _trigrams(term: str) -> frozenset[str]:
    padded = f"#{term}#"
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))
