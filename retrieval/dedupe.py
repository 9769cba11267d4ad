"""Near-duplicate detection: the same agency story reprinted by several papers."""

from __future__ import annotations

from collections.abc import Sequence

from retrieval.arabic import normalize

SHINGLE = 4  # words per shingle
# Share of the shorter passage's shingles found in the other. Reprints differ by a dateline,
# a trimmed last paragraph or a different headline; distinct stories on the same event share
# far fewer 4-word runs (measured on the demo corpus: see benchmarks/duplicates.py).
MIN_OVERLAP = 0.5


def shingles(text: str, size: int = SHINGLE) -> frozenset[str]:
    """Word n-grams of the normalized text."""
    words = normalize(text).split()
    if len(words) < size:
        return frozenset([" ".join(words)]) if words else frozenset()
    return frozenset(" ".join(words[i : i + size]) for i in range(len(words) - size + 1))


def overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Overlap coefficient |a ∩ b| / min(|a|, |b|)."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def group_duplicates(texts: Sequence[str], threshold: float = MIN_OVERLAP) -> list[list[int]]:
    """Group indices of near-identical texts; groups keep the input order of their first member."""
    sets = [shingles(t) for t in texts]
    groups: list[list[int]] = []
    for i, current in enumerate(sets):
        for group in groups:
            if overlap(sets[group[0]], current) >= threshold:
                group.append(i)
                break
        else:
            groups.append([i])
    return groups
