"""The search side of a busy bot, without Telegram: questions offered at fixed rates to the
bot's own search queue (bot/searches.py) over the real library, in one process and one run.

    .venv/bin/python benchmarks/queue_capacity.py [--rates 20 40 60] [--seconds 6]
        [--workers 1 2] [--data-dir data/bench-load]

Each question is one user's (the load benchmark's list, benchmarks/load.py), searched as the bot
searches it (a page and a look at the next). Prints, per workers and rate: questions, p50/p95/max
latency (offered -> hits), questions/s sustained. Set against benchmarks/load.py (the same
questions through the emulator and the real bot process), the difference is what receiving and
sending Telegram messages costs. The first run ingests and indexes the bundled corpus.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.load import question_list
from bot.searches import Overloaded, SearchQueue
from retrieval.library import Library
from retrieval.query import Query
from retrieval.settings import LibrarySettings

TOP_K = 3


def bundled_library(data_dir: Path) -> Library:
    """The library in `data_dir`, laid out as `tests.e2e.harness.bundled_corpus_bot` lays out
    the bot's (sanad.db, index/), so in-process and bot benchmarks share one ingest and build;
    the bundled corpus is ingested and indexed on first use."""
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{data_dir.resolve() / 'sanad.db'}"
    os.environ["INDEX_DIR"] = str(data_dir.resolve() / "index")
    library = Library.open(LibrarySettings())
    library.prepare()
    return library


async def offer(queue: SearchQueue, questions: list[str], rate: float, seconds: float) -> str:
    """Offer rate x seconds questions evenly spaced; the table row of what came back."""
    latencies: list[float] = []

    refused = 0

    async def ask(user: int, question: str) -> None:
        nonlocal refused
        sent = time.perf_counter()
        try:
            ticket = queue.submit(user, Query(question, 2 * TOP_K, explain=TOP_K))
        except Overloaded:
            refused += 1
            return
        await ticket.result
        latencies.append(time.perf_counter() - sent)

    total = round(rate * seconds)
    started = time.perf_counter()
    tasks = []
    for i in range(total):
        await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(ask(i, questions[i % len(questions)])))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    ms = sorted(1000 * s for s in latencies)
    p95 = statistics.quantiles(ms, n=20, method="inclusive")[18]
    return (
        f"| {queue.workers} | {rate:g}/s | {total} | {refused} | {statistics.median(ms):.0f} | "
        f"{p95:.0f} | {ms[-1]:.0f} | {len(ms) / elapsed:.1f} |"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[20, 40, 60])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--data-dir", type=Path, default=Path("data/bench-load"))
    args = parser.parse_args()
    library = bundled_library(args.data_dir)
    questions = question_list()
    for question in questions[:4]:
        library.search(question, 2 * TOP_K)  # warm-up
    print("| workers | offered | questions | refused | p50 ms | p95 ms | max ms | answered/s |")
    print("|---|---|---|---|---|---|---|---|")
    shift = 0
    for workers in args.workers:
        for rate in args.rates:
            queue = SearchQueue(library.search_many, workers=workers)
            shifted = questions[shift:] + questions[:shift]  # each run starts elsewhere
            print(await offer(queue, shifted, rate, args.seconds), flush=True)
            shift = (shift + round(rate * args.seconds)) % len(questions)
            await queue.close()


if __name__ == "__main__":
    asyncio.run(main())
