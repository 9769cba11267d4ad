"""Live feeds end to end: N feeds × M items from a local news site → seconds until every story is
answerable, then one story published → seconds until it is answerable.

    .venv/bin/python -m benchmarks.feeds [--feeds 10] [--items 50] [--json PATH]

(run as a module from the repository root: the site comes from tests/feedsite.py)

The site serves feeds × items + 1 articles sampled (seeded) from SaudiNewsNet
(../shared/data/news/saudinewsnet_full.jsonl.gz; none of the bundled demo articles), each as an
HTML page with menus, related links, comments, scripts and a cookie banner around it, over
HTTP on 127.0.0.1. The library starts as a running bot's does: the bundled corpus ingested and
indexed, the real model loaded. Then, timed in one run:
  1. poll    every feed fetched, each item's page fetched and its text extracted, the stories
             stored as articles (`retrieval.feeds.poll_feeds`, what the bot's JobQueue runs);
  2. index   the incremental build of their passages (`Library.build`, as after a poll);
  3. check   every new article searched by its title: the share found in the top 3.
Then one more story is published on one feed and polled, indexed and searched: the time a reader
waits after the poll that sees it (the poll interval, FEED_POLL_MINUTES, comes on top: a story is
seen at the first poll after it is published).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from corpus.models import Article
from retrieval.feeds import add_feed, poll_feeds
from retrieval.library import Library
from retrieval.settings import LibrarySettings
from tests.feedsite import FeedSite
from tests.feedsite_pages import load_articles

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
NEWS = ROOT.parent / "shared" / "data" / "news" / "saudinewsnet_full.jsonl.gz"
DEMO = ROOT / "corpus" / "data"
SEED = 20261201


def sample_news(path: Path, count: int, exclude: set[str], out: Path) -> None:
    """`count` articles of the news file (seeded sample, demo ids excluded) as JSONL at `out`."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        rows = [row for row in lines if json.loads(row)["id"] not in exclude]
    out.write_text("".join(random.Random(SEED).sample(rows, count)), encoding="utf-8")


def demo_ids() -> set[str]:
    """Ids of the bundled demo articles (already in a fresh library)."""
    lines = (DEMO / "saudinewsnet_demo200.jsonl").read_text("utf-8").splitlines()
    return {json.loads(line)["id"] for line in lines if line}


def found(library: Library, article_ids: list[int]) -> float:
    """Share of the articles that their own title finds in the top 3."""
    with library.session_factory() as session:
        rows = session.execute(select(Article.id, Article.title).where(Article.id.in_(article_ids)))
        titles = {article_id: title for article_id, title in rows}
    hits = 0
    for article_id, title in titles.items():
        hits += article_id in {hit.article_id for hit in library.search(title, 3)}
    return hits / max(len(titles), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=10)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--news", type=Path, default=NEWS)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sample_news(args.news, args.feeds * args.items + 1, demo_ids(), root / "news.jsonl")
        articles = load_articles(root / "news.jsonl")
        settings = LibrarySettings(
            database_url=f"sqlite:///{root / 'bench.db'}",
            index_dir=root / "index",
            feed_allow_private_networks=True,  # the site is on 127.0.0.1
        )
        library = Library.open(settings)
        library.ingest_paths([DEMO])
        library.build()
        with FeedSite(articles) as site:
            slugs = [a.slug for a in articles]
            feeds = []
            for n in range(args.feeds):
                chunk = slugs[n * args.items : (n + 1) * args.items]
                feeds.append(add_feed(library, site.add_feed(f"feed{n}", chunk), f"مصدر {n}").id)
            t0 = time.perf_counter()
            reports = poll_feeds(library, settings, feeds)
            t1 = time.perf_counter()
            build = library.build()
            t2 = time.perf_counter()
            added = [article for report in reports for article in report.added]
            share = found(library, added)
            summaries = sum(r.summaries for r in reports)
            failed = sum(len(r.failed) for r in reports)
            # one more story on one feed: poll (conditional GETs of the others), index, search
            site.publish("feed0", slugs[-1])
            t3 = time.perf_counter()
            [one] = poll_feeds(library, settings, feeds[:1])
            t4 = time.perf_counter()
            library.build()
            t5 = time.perf_counter()
            hit = one.added and found(library, one.added) == 1.0
            t6 = time.perf_counter()
    figures = {
        "feeds": args.feeds,
        "items": args.feeds * args.items,
        "articles_added": len(added),
        "from_summaries": summaries,
        "failed": failed,
        "poll_seconds": round(t1 - t0, 2),
        "index_seconds": round(t2 - t1, 2),
        "passages_embedded": build.embedded,
        "answerable_seconds": round(t2 - t0, 2),
        "found_by_title_top3": round(share, 4),
        "one_story_poll_seconds": round(t4 - t3, 2),
        "one_story_index_seconds": round(t5 - t4, 2),
        "one_story_answerable_seconds": round(t6 - t3, 2),
        "one_story_found": bool(hit),
    }
    print(f"{args.feeds} feeds × {args.items} items from the local site (real model, 2 cores)")
    print(
        f"  poll (fetch, extract, store): {figures['poll_seconds']:7.1f} s"
        f"  ({len(added)} articles, {summaries} from summaries, {failed} failed)"
    )
    print(
        f"  index (incremental build):    {figures['index_seconds']:7.1f} s"
        f"  ({build.embedded} passages embedded)"
    )
    print(f"  all answerable after:         {figures['answerable_seconds']:7.1f} s")
    print(f"  found by their title (top 3): {share:.1%}")
    print(
        f"one story published → answerable: {figures['one_story_answerable_seconds']:.2f} s "
        f"(poll {figures['one_story_poll_seconds']:.2f} s, index "
        f"{figures['one_story_index_seconds']:.2f} s, found: {bool(hit)})"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
