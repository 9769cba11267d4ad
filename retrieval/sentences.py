"""Pick the sentence of a passage that best answers a question — pure functions."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Final

from retrieval.arabic import analyze_document, analyze_query

# A query term absent from a sentence still earns PARTIAL_CREDIT x similarity when a sentence
# term shares enough character trigrams with it (Jaccard of the #-padded analyzed terms:
# «التفاوض» ~ «المفاوضات» 0.43, «السعوديين» ~ «السعودية» 0.5; «انسحبت» ~ «الانسحاب» 0.33 falls
# short). On ARCD-train: exact overlap 0.811 answer_in_sentence, with fuzzy matches 0.820.
FUZZY_THRESHOLD: Final = 0.4
PARTIAL_CREDIT: Final = 0.5
# Weight of the question/sentence cosine where the words leave a close call (first hit only:
# one encoder call per batch of questions, shed by a bot that is behind). When introduced:
# ARCD-train answer_in_sentence 0.816 -> 0.824, ARCD-test 0.835 -> 0.840; question latency
# median unchanged, p95 28 -> 74 ms (benchmarks/latency.py, 300 ARCD-test questions).
DENSE_WEIGHT: Final = 1.0
# Sentences scoring within this share of the best are a close call the model decides (at most
# MAX_CLOSE_CALLS of them: each costs ~6 ms of encoding on this project's 2-core machine).
TIE_MARGIN: Final = 0.1
MAX_CLOSE_CALLS: Final = 2
# Longer terms are rarer across a corpus; the passage alone cannot tell, so length stands in.
_LENGTH_CAP: Final = 6


def best_sentence(
    question: str,
    passage: str,
    spans: Sequence[tuple[int, int]],
    cosines: Sequence[float] | None = None,
) -> tuple[int, int] | None:
    """The span in `spans` (sentences of `passage`) that best answers `question`, or None.

    Score: question terms found in the sentence (PARTIAL_CREDIT x similarity for a similar
    sentence term), each weighted by its rarity among the passage's sentences and by its
    length; plus DENSE_WEIGHT x the question/sentence cosine when `cosines` (one per span) are
    given. None when no sentence has any evidence.
    """
    if not spans:
        return None
    scores = sentence_scores(question, [passage[start:end] for start, end in spans])
    if cosines is not None:
        if len(cosines) != len(spans):
            raise ValueError(f"{len(cosines)} cosines for {len(spans)} spans")
        scores = [s + DENSE_WEIGHT * c for s, c in zip(scores, cosines, strict=True)]
    elif not any(scores):
        return None
    # max() keeps the first of equal scores: earlier sentences win ties.
    best = max(range(len(spans)), key=scores.__getitem__)
    return spans[best]


def close_calls(
    question: str, passage: str, spans: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The sentences whose score is within TIE_MARGIN of the best one, in passage order (at
    most MAX_CLOSE_CALLS); [] when no sentence has any evidence."""
    scores = sentence_scores(question, [passage[start:end] for start, end in spans])
    top = max(scores, default=0.0)
    if top <= 0:
        return []
    ranked = sorted(range(len(spans)), key=lambda i: -scores[i])
    close = [i for i in ranked if scores[i] >= top * (1 - TIE_MARGIN)][:MAX_CLOSE_CALLS]
    return [spans[i] for i in sorted(close)]


def sentence_scores(question: str, sentences: Sequence[str]) -> list[float]:
    """One evidence score per sentence (see `best_sentence`); 0 where no question term, nor
    one similar to it, is."""
    terms = list(dict.fromkeys(analyze_query(question)))
    if not terms:
        return [0.0] * len(sentences)
    sentence_terms = [set(analyze_document(sentence)) for sentence in sentences]
    count = len(sentences)
    weights = {}
    for term in terms:
        df = sum(term in found for found in sentence_terms)
        # Terms in every sentence (the passage's topic) say little about which one answers;
        # one in no sentence (df 0, matched in part at best) weighs as one in half a sentence.
        weights[term] = math.log(1 + count / max(df, 0.5)) * min(len(term), _LENGTH_CAP) / 4
    # terms absent from some sentence may still be matched there in part
    partial = _partial_credits(
        [t for t in terms if len(t) >= 3 and not all(t in found for found in sentence_terms)],
        sentence_terms,
    )
    return [
        math.fsum(
            weights[t] * (1.0 if t in found else partial[t][i] if t in partial else 0.0)
            for t in terms
        )
        for i, found in enumerate(sentence_terms)
    ]


def _partial_credits(
    terms: Sequence[str], sentence_terms: Sequence[set[str]]
) -> dict[str, list[float]]:
    """For each of `terms`, per sentence: PARTIAL_CREDIT x the highest trigram Jaccard
    similarity of a sentence term to it, where that reaches FUZZY_THRESHOLD (else 0). Only words
    sharing a trigram with a term can reach it, so an inverted index of the sentences'
    trigrams finds them without comparing every pair."""
    if not terms:
        return {}
    postings: dict[str, list[tuple[int, str]]] = {}
    for i, found in enumerate(sentence_terms):
        for word in found:
            for gram in _trigrams(word):
                postings.setdefault(gram, []).append((i, word))
    credits = {}
    for term in terms:
        grams = _trigrams(term)
        shared: Counter[tuple[int, str]] = Counter()
        for gram in grams:
            shared.update(postings.get(gram, ()))
        best = [0.0] * len(sentence_terms)
        for (i, word), n in shared.items():
            best[i] = max(best[i], n / (len(grams) + len(_trigrams(word)) - n))
        credits[term] = [PARTIAL_CREDIT * j if j >= FUZZY_THRESHOLD else 0.0 for j in best]
    return credits


@lru_cache(maxsize=1 << 16)
def _trigrams(term: str) -> frozenset[str]:
    padded = f"#{term}#"
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))
