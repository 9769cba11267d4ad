"""Near-duplicate detection: the same agency story reprinted by several papers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache

from retrieval.arabic import normalize

SHINGLE = 4  # words per shingle
# Two hits are one story when most of the shorter article stands, 4-word run by 4-word run, in
# the longer one. Whole articles, not the winning passages: papers cut the same text into
# paragraphs differently and a question may match different parts of two copies; reprints stay
# >= 0.6, distinct stories on the same event below 0.3 (benchmarks/duplicates.py).
MIN_CONTAINMENT = 0.5
# An article shorter than this many shingles (~15 words: a share line, a one-line template) is
# contained in too many unrelated articles to prove anything: it folds only with a near copy.
MIN_SHINGLES = 12


def shingles(text: str, size: int = SHINGLE) -> frozenset[str]:
    """Word n-grams of the normalized text."""
    words = normalize(text).split()
    if len(words) < size:
        return frozenset([" ".join(words)]) if words else frozenset()
    return frozenset(" ".join(words[i : i + size]) for i in range(len(words) - size + 1))


def overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard similarity |a ∩ b| / |a ∪ b|."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def containment(part: frozenset[str], whole: frozenset[str]) -> float:
    """Share of `part`'s shingles found in `whole`."""
    return len(part & whole) / len(part) if part else 0.0


def same_story(article_a: frozenset[str], article_b: frozenset[str]) -> bool:
    """True when the shorter article is mostly contained in the longer one: a reprint, an
    excerpt or an extended version of one story. Two stories that merely share a paragraph
    (a background paragraph, a share line) are not one story. Whole articles decide, not the
    passages that won, so copies that win with different passages still fold."""
    shorter, longer = sorted((article_a, article_b), key=len)
    if len(shorter) < MIN_SHINGLES:  # a one-line article: only a near copy counts
        return overlap(shorter, longer) >= MIN_CONTAINMENT
    return containment(shorter, longer) >= MIN_CONTAINMENT


# Memoized: the same articles win question after question. An article's set takes ~80 KB:
# 4,096 of them grew a serving process by 360 MB over 1,000 archive questions.
ARTICLE_MEMO = 256


@lru_cache(maxsize=ARTICLE_MEMO)
def _article_shingles(body: str) -> frozenset[str]:
    return shingles(body)


def remember_articles(bodies: Iterable[str]) -> None:
    """Put these article bodies' shingles in the memo `group_duplicates` reads (the last
    ARTICLE_MEMO of them stay)."""
    for body in bodies:
        _article_shingles(body)


def group_duplicates(count: int, article_text: Callable[[int], str]) -> list[list[int]]:
    """Group the indices 0..count-1 of hits that carry the same story; `article_text(i)` is
    hit i's article.

    Every pair is compared at article level, so two copies of a story that win with different
    passages still fold. Groups keep the input order of their first member (the best-ranked
    copy leads).
    """
    article_sets: dict[int, frozenset[str]] = {}

    def article(i: int) -> frozenset[str]:
        if i not in article_sets:
            article_sets[i] = _article_shingles(article_text(i))
        return article_sets[i]

    groups: list[list[int]] = []
    for i in range(count):
        for group in groups:
            if same_story(article(group[0]), article(i)):
                group.append(i)
                break
        else:
            groups.append([i])
    return groups
