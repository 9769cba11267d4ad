"""Builds that yield to readers: question latency while a full re-embed runs, per policy.

    .venv/bin/python benchmarks/build_yield.py [--rate 10] [--data-dir data/bench-yield]

In one process and one run, on the bundled corpus: questions (benchmarks/load.py's list) arrive
at --rate per second and are searched in batches as the bot's queue does with one worker
(bot/searches.py: whatever waits, up to its MAX_BATCH, in one `Library.search_many` call, the
answer-sentence tie-break shed while questions are left waiting), first alone, then while
`Library.build(full=True)` re-embeds every passage under each policy (retrieval/readers.py).
Prints question p50/p95/max, build seconds and its cost against a build alone. The
first run ingests and indexes the bundled corpus into --data-dir.
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.load import question_list
from benchmarks.queue_capacity import bundled_library
from bot.searches import MAX_BATCH
from retrieval.library import Library
from retrieval.query import Query
from retrieval.readers import DEFAULT_YIELD, NO_YIELD, YieldPolicy

QUESTIONS = question_list()


@dataclass(frozen=True)
class Plan:
    name: str
    policy: YieldPolicy
    build_threads: int | None = None  # torch threads in the build thread (None: default)


PLANS = [
    Plan("no yield (before)", NO_YIELD),
    Plan("1 torch thread for the whole build", NO_YIELD, build_threads=1),
    Plan("pause ≤1 s per batch", YieldPolicy(max_pause=1.0)),
    Plan("batches of 4 while asked", YieldPolicy(busy_batch=4)),
    Plan("pause ≤1 s + batches of 4", YieldPolicy(max_pause=1.0, busy_batch=4)),
    Plan("1 torch thread while asked (default)", DEFAULT_YIELD),
]


class Askers:
    """Questions at a fixed rate, searched in batches by one worker thread."""

    def __init__(self, library: Library, rate: float) -> None:
        self.library = library
        self.rate = rate
        self.inbox: queue.Queue[tuple[float, str]] = queue.Queue()
        self.latencies: list[float] = []
        self.stop = threading.Event()

    def run_until(self, done: threading.Event | None, seconds: float | None = None) -> None:
        worker = threading.Thread(target=self._work)
        worker.start()
        started = time.perf_counter()
        i = 0
        while not (done.is_set() if done else time.perf_counter() - started > (seconds or 0)):
            delay = started + i / self.rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self.inbox.put((time.perf_counter(), QUESTIONS[i % len(QUESTIONS)]))
            i += 1
        self.stop.set()
        worker.join()

    def _work(self) -> None:
        while not (self.stop.is_set() and self.inbox.empty()):
            try:
                batch = [self.inbox.get(timeout=0.05)]
            except queue.Empty:
                continue
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self.inbox.get_nowait())
                except queue.Empty:
                    break
            behind = not self.inbox.empty()
            self.library.search_many(
                [Query(text, 6, explain=3, model_sentence=not behind) for _, text in batch]
            )
            now = time.perf_counter()
            self.latencies.extend(now - sent for sent, _ in batch)

    def summary(self) -> str:
        ms = sorted(1000 * s for s in self.latencies)
        p95 = statistics.quantiles(ms, n=20, method="inclusive")[18]
        return f"{len(ms)} | {statistics.median(ms):.0f} | {p95:.0f} | {ms[-1]:.0f}"


def build(library: Library, plan: Plan, done: threading.Event, out: list[float]) -> None:
    import torch

    before = torch.get_num_threads()
    if plan.build_threads:
        torch.set_num_threads(plan.build_threads)
    started = time.perf_counter()
    try:
        library.build(full=True)
    finally:
        out.append(time.perf_counter() - started)
        torch.set_num_threads(before)
        done.set()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=20.0, help="questions alone")
    parser.add_argument("--data-dir", type=Path, default=Path("data/bench-yield"))
    parser.add_argument(
        "--plans", type=int, nargs="+", help="run only these plans (0-based, repeats allowed)"
    )
    args = parser.parse_args()
    library = bundled_library(args.data_dir)
    for question in QUESTIONS[-4:]:
        library.search(question, 6)  # warm-up
    import torch

    print(f"torch threads: {torch.get_num_threads()}; questions at {args.rate:g}/s\n")
    alone = Askers(library, args.rate)
    alone.run_until(None, args.seconds)
    seconds: list[float] = []
    library.readers.policy = NO_YIELD
    build(library, Plan("build alone", NO_YIELD), threading.Event(), seconds)
    base = seconds[-1]
    print("| plan | questions | p50 ms | p95 ms | max ms | build s | build cost | paused s |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| questions alone | {alone.summary()} | – | – | – |")
    print(f"| build alone | – | – | – | – | {base:.1f} | 1.00× | – |", flush=True)
    for plan in [PLANS[i] for i in args.plans] if args.plans else PLANS:
        library.readers.policy = plan.policy
        library.readers.paused_seconds = 0.0
        askers = Askers(library, args.rate)
        done = threading.Event()
        builder = threading.Thread(target=build, args=(library, plan, done, seconds))
        builder.start()
        askers.run_until(done)
        builder.join()
        print(
            f"| {plan.name} | {askers.summary()} | {seconds[-1]:.1f} | "
            f"{seconds[-1] / base:.2f}× | {library.readers.paused_seconds:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
