"""How many near-duplicate passages (same story, other outlet) the corpus has, with examples.

    .venv/bin/python benchmarks/duplicates.py [corpus/data/saudinewsnet_demo200.jsonl] [--show 5]

Splits every article as ingest does, compares passages of different articles with the shingle
overlap used by search (retrieval/dedupe.py), and prints the distribution of best overlaps, the
number of passages that would fold at the threshold, and pairs to check by eye.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from corpus.ingest import read_paths
from corpus.split import clean_text, split_passages
from retrieval.dedupe import MIN_CONTAINMENT, MIN_SHINGLES, containment, overlap, shingles

ROOT = Path(__file__).resolve().parent.parent
MAX_POSTINGS = 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "path",
        type=Path,
        nargs="?",
        default=ROOT / "corpus" / "data" / "saudinewsnet_demo200.jsonl",
    )
    parser.add_argument("--show", type=int, default=5)
    args = parser.parse_args()
    records, _ = read_paths([args.path])
    passages = []  # (article index, source, title, text)
    for i, record in enumerate(records):
        for span in split_passages(clean_text(record.body)):
            passages.append((i, record.source, record.title, span.text))
    sets = [shingles(text) for *_, text in passages]
    article_sets = [shingles(record.body) for record in records]
    # Inverted index on shingles keeps this near-linear on large corpora; runs shared by more
    # than MAX_POSTINGS passages are boilerplate ("وكالة الأنباء السعودية" …), not evidence.
    postings: dict[str, list[int]] = {}
    for n, s in enumerate(sets):
        for sh in s:
            postings.setdefault(sh, []).append(n)
    postings = {sh: ns for sh, ns in postings.items() if len(ns) <= MAX_POSTINGS}
    best: dict[int, tuple[float, int]] = {}
    for n, s in enumerate(sets):
        candidates = Counter(m for sh in s for m in postings.get(sh, ()) if m != n)
        for m, _ in candidates.most_common(5):
            if passages[m][0] == passages[n][0]:
                continue
            # what search does: the shorter whole article against the longer one
            a, b = article_sets[passages[n][0]], article_sets[passages[m][0]]
            shorter, longer = sorted((a, b), key=len)
            score = containment(shorter, longer) if len(shorter) >= MIN_SHINGLES else overlap(a, b)
            if score > best.get(n, (0.0, -1))[0]:
                best[n] = (score, m)
    buckets = Counter(min(int(score * 10), 9) for score, _ in best.values())
    print(f"{len(records)} articles, {len(passages)} passages")
    print("best containment per passage in another article (passages with any shared 4-gram):")
    for b in range(10):
        print(f"  {b / 10:.1f}-{(b + 1) / 10:.1f}: {buckets.get(b, 0)}")
    folded = [(n, m, s) for n, (s, m) in best.items() if s >= MIN_CONTAINMENT and n < m]
    near = [(n, m, s) for n, (s, m) in best.items() if 0.3 <= s < MIN_CONTAINMENT and n < m]
    articles = {passages[n][0] for n, _, _ in folded} | {passages[m][0] for _, m, _ in folded}
    print(
        f"passage pairs at containment >= {MIN_CONTAINMENT}: {len(folded)} "
        f"(over {len(articles)} articles)"
    )
    for n, m, score in sorted(folded, key=lambda t: t[2])[: args.show]:
        for k in (n, m):
            _, source, title, text = passages[k]
            print(f"  [{source}] {title}\n     {' '.join(text.split())[:160]}")
        print(f"  containment {score:.2f}\n")
    stories = _stories([(passages[n][0], passages[m][0]) for n, m, _ in folded])
    print(
        f"stories that fold (article level: connected copies): {len(stories)}, "
        f"{sum(len(s) for s in stories)} articles, {sum(len(s) - 1 for s in stories)} results saved"
    )
    print(f"below the threshold (0.3-{MIN_CONTAINMENT}), not folded: {len(near)}")
    for n, m, score in sorted(near, key=lambda t: -t[2])[: args.show]:
        for k in (n, m):
            _, source, title, text = passages[k]
            print(f"  [{source}] {title}\n     {' '.join(text.split())[:160]}")
        print(f"  containment {score:.2f}\n")


def _stories(pairs: list[tuple[int, int]]) -> list[set[int]]:
    """Connected components of article pairs (union-find)."""
    parent: dict[int, int] = {}

    def root(a: int) -> int:
        while parent.setdefault(a, a) != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in pairs:
        parent[root(a)] = root(b)
    groups: dict[int, set[int]] = {}
    for a in parent:
        groups.setdefault(root(a), set()).add(a)
    return [g for g in groups.values() if len(g) > 1]


if __name__ == "__main__":
    main()
