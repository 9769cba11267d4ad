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
# The model judges a close call on the opening of each sentence, this many characters (about 45
# tokens of Arabic; cut at a space): encoding costs grow with length, and a sentence's opening
# carries most of what it says. On ARCD-train, whole sentences / 300 / 200 characters:
# answer_in_sentence 0.867 each, question latency mean 69.5 / 63.6 / 60.8 ms (one run).
SENTENCE_CHARS: Final[int | None] = 200
# Longer terms are rarer across a corpus; the passage alone cannot tell, so length stands in.
_LENGTH_CAP: Final = 6
# A question term that is in the article's title names what the whole article is about («متى
# توفي جبران خليل جبران» over the article «جبران خليل جبران»): the sentence that names it (the
# opening one, as a rule) is not the more likely answer for it, the one with the question's
# other words is («توفي في نيويورك…»). Such terms weigh this much of the others: enough to break
# ties and to count as evidence. Chosen on the ARCD-train questions whose gold paragraph has
# several sentences (502; lexical score alone): answer_in_sentence 0.779 at 1 (no discount),
# 0.787 at 0.75, 0.803 at 0.5, 0.819 at 0.25, 0.827 at 0.05 and 0.1; the train split of the
# bundled news questions (75) 0.760 at 1, 0.827 at 0.05.
TITLE_WEIGHT: Final = 0.05


def best_sentence(
    question: str,
    passage: str,
    spans: Sequence[tuple[int, int]],
    cosines: Sequence[float] | None = None,
    title: str = "",
) -> tuple[int, int] | None:
    """The span in `spans` (sentences of `passage`) that best answers `question`, or None.

    Score: question terms found in the sentence (PARTIAL_CREDIT x similarity for a similar
    sentence term), each weighted by its rarity among the passage's sentences and by its
    length, and by TITLE_WEIGHT when the term is in `title` (the article's); plus DENSE_WEIGHT
    x the question/sentence cosine when `cosines` (one per span) are given. None when no
    sentence has any evidence.
    """
    if not spans:
        return None
    scores = sentence_scores(question, [passage[start:end] for start, end in spans], title)
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
    question: str, passage: str, spans: Sequence[tuple[int, int]], title: str = ""
) -> list[tuple[int, int]]:
    """The sentences whose score is within TIE_MARGIN of the best one, in passage order (at
    most MAX_CLOSE_CALLS); [] when no sentence has any evidence."""
    scores = sentence_scores(question, [passage[start:end] for start, end in spans], title)
    top = max(scores, default=0.0)
    if top <= 0:
        return []
    ranked = sorted(range(len(spans)), key=lambda i: -scores[i])
    close = [i for i in ranked if scores[i] >= top * (1 - TIE_MARGIN)][:MAX_CLOSE_CALLS]
    return [spans[i] for i in sorted(close)]


def sentence_scores(question: str, sentences: Sequence[str], title: str = "") -> list[float]:
    """One evidence score per sentence (see `best_sentence`); 0 where no question term, nor
    one similar to it, is."""
    terms = list(dict.fromkeys(analyze_query(question)))
    if not terms:
        return [0.0] * len(sentences)
    sentence_terms = [set(analyze_document(sentence)) for sentence in sentences]
    topic = set(analyze_document(title)) if title else set()
    count = len(sentences)
    weights = {}
    for term in terms:
        df = sum(term in found for found in sentence_terms)
        # Terms in every sentence (the passage's topic) say little about which one answers;
        # one in no sentence (df 0, matched in part at best) weighs as one in half a sentence.
        weights[term] = math.log(1 + count / max(df, 0.5)) * min(len(term), _LENGTH_CAP) / 4
        if term in topic:
            weights[term] *= TITLE_WEIGHT
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


def opening(sentence: str, limit: int | None = None) -> str:
    """`sentence` cut to at most `limit` characters at the last space within them (at `limit`
    when there is none); whole when it is shorter. `limit` None: SENTENCE_CHARS, and when that
    is None too, the whole sentence."""
    limit = SENTENCE_CHARS if limit is None else limit
    if limit is None or len(sentence) <= limit:
        return sentence
    cut = sentence.rfind(" ", 0, limit + 1)
    return sentence[: cut if cut > 0 else limit]


@lru_cache(maxsize=1 << 16)
def _trigrams(term: str) -> frozenset[str]:
    padded = f"#{term}#"
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))
