"""BM25's per-term counts in the tantivy backend: the pool filter for every query term, against
an unfiltered term query for terms held by at most `_UNFILTERED_DF` passages
(retrieval/backends/lexical_tantivy.py), on the same index and questions, one run.

    .venv/bin/python -m benchmarks.lexical_terms [--articles 200 4000 20000] [--archive FILE]
        [--questions 400]

For each size: the archive's first N articles, cut into passages by the product's splitter and
indexed as a build indexes them (title + passage, `retrieval.index.embedding_text`), in a
temporary folder. Questions: ARCD-test's and the bot's load questions (`benchmarks.load`),
`search(question, 50)` as the retriever asks (fusion.CANDIDATES), the two ways interleaved.
Prints median and mean ms each way, their ratio, and how many questions got identical rankings.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.load import question_list
from benchmarks.scale import open_archive
from corpus.split import clean_text, split_passages
from retrieval.arabic import strip_marks
from retrieval.backends import lexical_tantivy
from retrieval.backends.lexical_tantivy import TantivyIndex
from retrieval.evaluate import load_squad
from retrieval.fusion import CANDIDATES
from retrieval.index import TITLE_CHARS

ROOT = Path(__file__).resolve().parent.parent


def passages(archive: Path, articles: int) -> list[str]:
    """Index texts of the first `articles` articles with a body."""
    texts: list[str] = []
    seen = 0
    with open_archive(archive) as handle:
        for line in handle:
            if seen >= articles:
                break
            record = json.loads(line)
            body = clean_text(str(record.get("text") or record.get("body") or ""))
            if not body:
                continue
            seen += 1
            title = clean_text(str(record.get("title") or ""))[:TITLE_CHARS]
            for span in split_passages(body):
                texts.append(strip_marks(f"{title}\n{span.text}" if title else span.text))
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, nargs="+", default=[200, 4000, 20000])
    parser.add_argument(
        "--archive",
        type=Path,
        default=ROOT.parent / "shared/data/news/saudinewsnet_full.jsonl.gz",
    )
    parser.add_argument("--questions", type=int, default=400)
    args = parser.parse_args()
    arcd = load_squad(ROOT.parent / "shared/data/arcd/arcd-test.json")
    asked = ([q.text for q in arcd.questions] + question_list())[: args.questions]
    default = lexical_tantivy._UNFILTERED_DF
    for articles in args.articles:
        texts = passages(args.archive, articles)
        with tempfile.TemporaryDirectory(prefix="sanad-lexical-") as folder:
            index = TantivyIndex.create(Path(folder))
            index.upsert(list(range(1, len(texts) + 1)), texts)
            index.reload()
            times: dict[str, list[float]] = {"filtered": [], "unfiltered": []}
            same = 0
            for n, question in enumerate(asked):
                ranked = {}
                ways = ("filtered", "unfiltered") if n % 2 else ("unfiltered", "filtered")
                for way in ways:
                    lexical_tantivy._UNFILTERED_DF = 0 if way == "filtered" else default
                    started = time.perf_counter()
                    ranked[way] = index.search(question, CANDIDATES)
                    times[way].append(time.perf_counter() - started)
                same += ranked["filtered"] == ranked["unfiltered"]
            lexical_tantivy._UNFILTERED_DF = default
        f, u = (1000 * statistics.median(times[w]) for w in ("filtered", "unfiltered"))
        fm, um = (1000 * statistics.fmean(times[w]) for w in ("filtered", "unfiltered"))
        print(
            f"{articles} articles, {len(texts)} passages, {len(asked)} questions: pool filter "
            f"for every term median {f:.2f} / mean {fm:.2f} ms | unfiltered up to df {default} "
            f"median {u:.2f} / mean {um:.2f} ms | {f / u:.2f}x | identical rankings "
            f"{same}/{len(asked)}",
            flush=True,
        )


if __name__ == "__main__":
    main()
