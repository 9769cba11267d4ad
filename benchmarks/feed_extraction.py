"""How well `corpus.feeds.extract.extract_article` reads article pages: text kept, clutter not.

    .venv/bin/python -m benchmarks.feed_extraction [--variants] [--show 10] [--archive N]
        [--json benchmarks/results/feed_extraction.json]

(run as a module from the repository root: the pages come from tests/feedsite_pages.py)

Each of the 200 bundled demo articles is rendered as the test news site serves it (one of three
layouts, with menus, cookie banner, share buttons, related and "most read" titles, ads, comments,
scripts, newsletter and footer around the article) and extracted. The article's body is its text
as ingest keeps it (`clean_text`, site boilerplate dropped) cut into the page's <p> paragraphs;
its first sentence is the first `corpus.split.split_sentences` span of the first paragraph, its
last sentence the last span of the last paragraph (whitespace compared collapsed). Clutter is
every string of the page outside the article that does not occur in the article's own title or
body. Prints, overall and per layout: the share of pages whose extracted text holds the first
and the last sentence, the share with no clutter, the share with both, the share whose title and
date (to the second, UTC) match, and the median and p95 extraction time; then the pages that
failed. Also checks that a page without an article (a front page, a one-line article in full
chrome) gives None. With --variants, the same for other trafilatura settings, by overriding
keywords of the call extract_article makes.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from typing import Any

import trafilatura

from benchmarks.feeds import NEWS, demo_ids, sample_news
from corpus.feeds import extract
from corpus.feeds.extract import extract_article
from tests.feedsite import THIN_TEXT
from tests.feedsite_pages import DemoArticle, layout_of, load_articles, render_index, render_page

URL = "https://news.example.com/news/{}.html"
VARIANTS: dict[str, dict[str, Any]] = {
    "shipped": {},
    "favor_precision off": {"favor_precision": False},
    "favor_recall": {"favor_precision": False, "favor_recall": True},
    "no link-paragraph pruning": {"prune_xpath": None},
    "fast (no fallback extractors)": {"fast": True},
    "extensive date search": {
        "date_extraction_params": {**extract._DATE_PARAMS, "extensive_search": True}
    },
}


def _norm(text: str) -> str:
    return " ".join(text.split())


@contextmanager
def overridden(changes: dict[str, Any]) -> Iterator[None]:
    """extract_article with some keywords of its trafilatura call replaced."""
    original: Callable[..., Any] = trafilatura.bare_extraction

    def call(*args: Any, **kwargs: Any) -> Any:
        return original(*args, **{**kwargs, **changes})

    trafilatura.bare_extraction = call
    try:
        yield
    finally:
        trafilatura.bare_extraction = original


def score(articles: list[DemoArticle]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Per layout and overall: shares of pages with the sentences, without clutter, both,
    right title, right date; ms per page. And the pages that failed."""
    rows, failures = [], []
    for n, article in enumerate(articles):
        others = [articles[(n + k) % len(articles)] for k in range(1, 5)]
        page = render_page(article, others)
        started = time.perf_counter()
        got = extract_article(page.html, URL.format(article.slug))
        ms = (time.perf_counter() - started) * 1000
        text = _norm(got.text) if got else ""
        found = _norm(article.first_sentence) in text and _norm(article.last_sentence) in text
        leaked = [c for c in page.clutter if _norm(c) in text]
        row = {
            "layout": layout_of(article.slug),
            "sentences": found,
            "clean": not leaked,
            "both": found and not leaked,
            "title": got is not None and got.title == article.title,
            "date": got is not None and got.published_at == article.published.astimezone(UTC),
            "ms": ms,
        }
        rows.append(row)
        if not row["both"]:
            failure = {"slug": article.slug, "layout": row["layout"], "sentences": found}
            failures.append(failure | {"leaked": leaked[:5], "extracted": got is not None})
    summary = {"all": _shares(rows)}
    for layout in sorted({r["layout"] for r in rows}):
        summary[f"layout {layout}"] = _shares([r for r in rows if r["layout"] == layout])
    return summary, failures


def _shares(rows: list[dict[str, Any]]) -> dict[str, Any]:
    times = sorted(r["ms"] for r in rows)
    keys = ("sentences", "clean", "both", "title", "date")
    shares = {k: sum(r[k] for r in rows) / len(rows) for k in keys}
    return {
        "pages": len(rows),
        **shares,
        "median_ms": statistics.median(times),
        "p95_ms": times[int(0.95 * (len(times) - 1))],
    }


def fallbacks(articles: list[DemoArticle]) -> dict[str, bool]:
    """Pages that must give None (the poller then uses the feed's summary)."""
    thin = dataclasses.replace(articles[1], paragraphs=(THIN_TEXT,))
    front, one_line = render_index(articles[:20]), render_page(thin, articles[2:6]).html
    return {
        "front page -> None": extract_article(front, URL) is None,
        "one-line article -> None": extract_article(one_line, URL) is None,
    }


def report(name: str, summary: dict[str, Any]) -> None:
    print(f"\n## {name}\n")
    print("| pages | first+last sentence | no clutter | both | title | date | median ms | p95 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for part, s in summary.items():
        print(
            f"| {part} ({s['pages']}) | {s['sentences']:.3f} | {s['clean']:.3f} | "
            f"{s['both']:.3f} | {s['title']:.3f} | {s['date']:.3f} | {s['median_ms']:.1f} | "
            f"{s['p95_ms']:.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", action="store_true", help="also other trafilatura settings")
    parser.add_argument("--show", type=int, default=10, help="failed pages to list")
    parser.add_argument("--json", type=Path, help="save the figures, e.g. benchmarks/results/…")
    parser.add_argument(
        "--archive",
        type=int,
        metavar="N",
        help="N articles sampled from the SaudiNewsNet archive (held out: not the demo articles "
        "the extraction settings were chosen on) instead of the 200 demo articles",
    )
    args = parser.parse_args()
    if args.archive:
        with tempfile.TemporaryDirectory() as tmp:
            sample = Path(tmp) / "archive.jsonl"
            sample_news(NEWS, args.archive, demo_ids(), sample)
            articles = load_articles(sample)
    else:
        articles = load_articles()
    result: dict[str, Any] = {"variants": {}}
    for name, changes in VARIANTS.items() if args.variants else [("shipped", {})]:
        with overridden(changes):
            summary, failures = score(articles)
            checks = fallbacks(articles)
        report(name, summary)
        for check, ok in checks.items():
            print(f"{check}: {'yes' if ok else 'NO'}")
        print(f"failed pages: {len(failures)}")
        for failure in failures[: args.show]:
            print(f"  {failure}")
        result["variants"][name] = {"summary": summary, "fallbacks": checks, "failures": failures}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
