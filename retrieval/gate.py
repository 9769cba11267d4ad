"""Whether a hit answers the question: a logistic model over evidence every hit carries.

One cosine threshold cannot serve every question: name-only questions («كازورلا») rank the
right article first at cosine 0.80–0.84, English questions over the Arabic corpus at ~0.80,
while passages sharing no word with the question reach 0.85. The gate weighs the cosine with
the share of the question's terms the passage contains, the question's length and its script.
Coefficients: logistic regression fitted by `benchmarks/gate.py` on the train split of its
labelled questions (news questions of every kind + ARCD-train); see the README for the test-split
precision and recall.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from retrieval.arabic import analyze_document, analyze_query

_ARABIC: Final = re.compile("[\u0600-\u06ff]")

# Probability (Hit.relevance) a passage needs to be shown as an answer, by default (the bot's
# MIN_RELEVANCE): the threshold with the best F1 of "answered correctly" on the train split of
# benchmarks/gate.py.
MIN_RELEVANCE: Final = 0.5

# Fitted by `python -m benchmarks.gate --fit` (train split: 1,453 questions, ~8,700 hits);
# order of `Evidence.features`: cosine, coverage, Arabic script, log(1 + terms). Read: without
# a single question term in the passage, an Arabic question needs cosine ~0.91 to pass; with
# all of them, ~0.77; an English question (no Arabic terms to find) ~0.78.
WEIGHTS: Final = (37.433, 5.0849, -4.6671, 0.755)
BIAS: Final = -30.6709


@dataclass(frozen=True)
class Evidence:
    """What speaks for a hit answering its question."""

    dense: float  # cosine similarity of question and passage
    coverage: float  # share of the question's terms (by length) in the passage or its title
    terms: int  # the question's search terms (after analysis)
    arabic: bool  # whether the question is written in Arabic script

    def features(self) -> tuple[float, ...]:
        return (self.dense, self.coverage, float(self.arabic), math.log1p(self.terms))

    @property
    def relevance(self) -> float:
        """Probability (0-1) that the hit answers the question."""
        return _logistic(BIAS + sum(w * x for w, x in zip(WEIGHTS, self.features(), strict=True)))


# Fitted by `python -m benchmarks.follow_alerts --fit` (logistic regression on the train topics
# of benchmarks/data/follow-topics.json: 28 topics x 201 articles, 66 articles about their
# topic); order: the best passage's relevance, the mean cosine of all the article's passages.
# Read: one passage that answers the topic is not enough; the article as a whole must lean to
# it (mean cosine ~0.87 with a sure passage, ~0.94 with none).
TOPIC_WEIGHTS: Final = (5.0277, 78.5145)
TOPIC_BIAS: Final = -69.8102


def about_topic(relevance: float, mean_cosine: float) -> float:
    """Probability (0-1) that a new article is about a followed topic: `relevance` is its best
    passage's (Evidence.relevance, the topic asked as a question), `mean_cosine` the mean
    cosine similarity of the topic and each of its passages. A topic is a subject, not a
    question: an article that answers it in one aside is not about it."""
    return _logistic(TOPIC_BIAS + TOPIC_WEIGHTS[0] * relevance + TOPIC_WEIGHTS[1] * mean_cosine)


def _logistic(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def is_arabic(text: str) -> bool:
    """Whether most of the letters of `text` are Arabic (else the Arabic BM25 side has nothing
    to say). NFKC first: Arabic pasted in presentation forms is Arabic; an English question
    ending in «؟» is not."""
    letters = [ch for ch in unicodedata.normalize("NFKC", text) if ch.isalpha()]
    arabic = sum(1 for ch in letters if _ARABIC.match(ch))
    return bool(letters) and arabic * 2 >= len(letters)


def question_terms(question: str) -> frozenset[str]:
    return frozenset(analyze_query(question))


def evidence(
    question: str, terms: frozenset[str], dense: float, title: str, passage: str
) -> Evidence:
    """The evidence for one hit; `terms` is `question_terms(question)`."""
    found = set(analyze_document(f"{title}\n{passage}"))
    total = sum(map(_weight, terms))
    coverage = sum(_weight(t) for t in terms & found) / total if total else 0.0
    return Evidence(dense, coverage, len(terms), is_arabic(question))


def _weight(term: str) -> float:
    # Longer terms carry more of the question ("برميل" more than a bare "13"), as in
    # retrieval/sentences.py.
    return min(len(term), 6) / 4
