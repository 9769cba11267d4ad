"""Many users at once: questions offered at a fixed rate by N users (distinct private chats)
through the Telegram emulator to the real bot process, with and without an admin /reindex
running at the same time. Prints, per offered load: questions sent, answered, delay notices,
refusals, latency p50/p95/max (question sent -> answer seen), questions/s sustained, and the
batches the bot searched with how many questions in them were shed (searched the cheaper way of
a queue that is behind; counted from the bot's debug log, LOG_LEVEL=DEBUG); draws latency
against offered load.

    .venv/bin/python -m benchmarks.load [--users 30] [--rates 8 16 24 32 40] [--seconds 6]
        [--reindex full|fresh|none] [--plot docs/load.png] [--data-dir data/bench-load]

(run as a module from the repository root: it drives the bot with the end-to-end test harness)

In a private chat the bot replies without quoting, so a chat's replies are matched to its
questions in order (a user's questions are answered in the order asked; two answered out of order
swap latencies, which leaves the distribution nearly unchanged). A poller reads the emulator's new
bot messages every POLL_SECONDS: latencies are exact to about that. The first run ingests the
bundled corpus and builds the index into --data-dir (minutes); later runs reuse it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import statistics
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.bot_latency import QUESTIONS as BOT_QUESTIONS
from bot import messages
from tests.e2e.harness import (
    BENCH_LOGS,
    REPO_ROOT,
    BotMessage,
    Client,
    Emulator,
    bundled_corpus_bot,
)

DATA = Path(__file__).resolve().parent / "data"
ADMIN = 4242
POLL_SECONDS = 0.02
DRAIN_SECONDS = 120.0  # how long answers are awaited after the last question is sent
REINDEX_AT = 0.3  # the /reindex is sent after this share of a run's questions
FAILURES = {messages.SEARCH_FAILED, messages.NOT_READY, messages.ERROR_APOLOGY}


@dataclass
class Run:
    """One offered load: what was sent when, and what came back when."""

    label: str
    rate: float
    sent_at: dict[int, float] = field(default_factory=dict)  # question message id -> time
    answered_at: dict[int, float] = field(default_factory=dict)
    unanswered: dict[int, deque[int]] = field(default_factory=dict)  # chat -> question ids
    notices: int = 0
    refused: int = 0
    failed: int = 0  # an apology or "search failed" instead of an answer
    reindex_seconds: float | None = None
    batches: int = 0  # batches the bot's search queue searched during the run
    shed: int = 0  # questions in them searched the cheaper way (bot/searches.py)

    def latencies_ms(self) -> list[float]:
        return sorted(1000 * (t - self.sent_at[m]) for m, t in self.answered_at.items())

    def row(self) -> str:
        ms = self.latencies_ms()
        p50 = statistics.median(ms) if ms else float("nan")
        p95 = statistics.quantiles(ms, n=20, method="inclusive")[18] if len(ms) > 1 else p50
        first = min(self.sent_at.values())
        last = max(self.answered_at.values(), default=first)
        sustained = len(ms) / (last - first) if last > first else 0.0
        build = f"{self.reindex_seconds:.1f}" if self.reindex_seconds is not None else "–"
        return (
            f"| {self.label} | {len(self.sent_at)} | {len(ms)} | {self.notices} | "
            f"{self.refused} | {self.failed} | {p50:.0f} | {p95:.0f} | {max(ms, default=0):.0f} | "
            f"{sustained:.1f} | {build} | {self.batches} | {self.shed} |"
        )

    def count_batches(self, log: str) -> None:
        """Batches and shed questions from the bot's debug lines (bot/searches.py) in `log`."""
        for shed in BATCH_LINE.findall(log):
            self.batches += 1
            self.shed += int(shed)


BATCH_LINE = re.compile(r"batch of \d+ searched in \d+ ms, (\d+) shed")
HEADER = (
    "| offered load | sent | answered | delay notices | refused | failed | p50 ms | p95 ms "
    "| max ms | answered/s | /reindex s | batches | shed |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


class Poller(threading.Thread):
    """Reads the bot's new messages and stamps the first answer to each question."""

    def __init__(self, tg: Client) -> None:
        super().__init__(daemon=True)
        self.tg = tg
        self.seen = len(tg.bot_messages(include_deleted=True))
        self.run_: Run | None = None
        self.stopped = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        while not self.stopped.is_set():
            new = self.tg.bot_messages(since=self.seen, include_deleted=True)
            now = time.perf_counter()
            self.seen += len(new)
            with self.lock:
                self._match(new, now)
            time.sleep(POLL_SECONDS)

    def _match(self, new: list[BotMessage], now: float) -> None:
        current = self.run_
        for message in new:
            waiting = current.unanswered.get(message.chat_id) if current else None
            if current is None or not waiting:
                continue
            text = message.text or ""
            if text.startswith(messages.DELAYED_PREFIX):
                current.notices += 1
                continue
            question = waiting.popleft()
            if text.startswith(messages.BUSY_PREFIX):
                current.refused += 1
            elif text in FAILURES:
                current.failed += 1
            else:
                current.answered_at[question] = now


def question_list(seed: int = 7) -> list[str]:
    """Questions as a crowd asks them, in a fixed shuffled order: the news QA sets' questions
    over the bundled corpus, the ones it cannot answer and bot_latency's (203 in all), so a
    run of a few hundred repeats few of them. A sweep goes on down the list and comes round
    again; by its 40/s run the search processes' memos (sentence splits, stems, duplicate
    shingles) hold the bundled corpus, which a burst right after start does not find."""
    questions = list(BOT_QUESTIONS)
    for name in ("news-qa-train.json", "news-qa-test.json"):
        data = json.loads((DATA / name).read_text(encoding="utf-8"))["data"]
        questions += [q["question"] for a in data for p in a["paragraphs"] for q in p["qas"]]
    unanswerable = json.loads((DATA / "news-unanswerable.json").read_text(encoding="utf-8"))
    questions += [q["question"] for q in unanswerable["questions"]]
    random.Random(seed).shuffle(questions)
    return questions


def offer(
    tg: Client,
    poller: Poller,
    run: Run,
    users: Sequence[int],
    questions: Iterator[str],
    seconds: float,
    reindex: str,
) -> None:
    """Send rate x seconds questions evenly spaced, round robin over `users`; wait for answers."""
    total = round(run.rate * seconds)
    with poller.lock:
        poller.run_ = run
    reindex_thread = None
    started = time.perf_counter()
    for i in range(total):
        delay = started + i / run.rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        if reindex != "none" and reindex_thread is None and i >= REINDEX_AT * total:
            reindex_thread = threading.Thread(target=_reindex, args=(tg, run, reindex))
            reindex_thread.start()
        user = users[i % len(users)]
        sent = time.perf_counter()
        message_id = tg.send_message(next(questions), user_id=user)
        with poller.lock:  # before the poller can see the answer
            run.sent_at[message_id] = sent
            run.unanswered.setdefault(user, deque()).append(message_id)
    deadline = time.perf_counter() + DRAIN_SECONDS
    while (
        len(run.answered_at) + run.refused + run.failed < total and time.perf_counter() < deadline
    ):
        time.sleep(0.1)
    if reindex_thread is not None:
        reindex_thread.join()
    with poller.lock:
        poller.run_ = None


def _reindex(tg: Client, run: Run, how: str) -> None:
    """/reindex [full] from the admin; the run records how long it took (✅ in the status)."""
    before = len(tg.bot_messages(ADMIN))
    started = time.perf_counter()
    tg.send_command("reindex", *(["full"] if how == "full" else []), user_id=ADMIN)
    tg.wait_until(
        lambda: any("✅" in (m.text or "") for m in tg.bot_messages(ADMIN)[before:]),
        timeout=3600,
        what="the /reindex to finish",
    )
    run.reindex_seconds = time.perf_counter() - started


def plot(runs: Sequence[Run], path: Path) -> None:
    """p50 and p95 latency against offered load, with and without a /reindex."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    for reindexing, style in ((False, "-"), (True, "--")):
        chosen = sorted(
            (r for r in runs if (r.reindex_seconds is not None) == reindexing), key=lambda r: r.rate
        )
        if not chosen:
            continue
        rates = [r.rate for r in chosen]
        lat = [r.latencies_ms() for r in chosen]
        p50 = [statistics.median(ms) / 1000 for ms in lat]
        p95 = [statistics.quantiles(ms, n=20, method="inclusive")[18] / 1000 for ms in lat]
        suffix = " + /reindex" if reindexing else ""
        ax.plot(rates, p50, style, marker="o", label=f"p50{suffix}")
        ax.plot(rates, p95, style, marker="s", label=f"p95{suffix}")
    ax.set_xlabel("offered load, questions/s (30 users)")
    ax.set_ylabel("question → answer, s")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    print(f"plot: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--rates", type=float, nargs="+", default=[8, 16, 24, 32, 40])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--reindex", choices=["full", "fresh", "none"], default="full")
    parser.add_argument("--plot", type=Path, default=None)
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT / "data" / "bench-load")
    parser.add_argument(
        "--env", nargs="*", default=[], metavar="KEY=VALUE", help="bot settings, e.g. TOP_K=5"
    )
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    for log in BENCH_LOGS:
        (args.data_dir / log).unlink(missing_ok=True)
    env = {
        "ADMIN_IDS": str(ADMIN),
        "LOG_LEVEL": "DEBUG",  # a line per search batch, counted per run
        **dict(item.split("=", 1) for item in args.env),
    }
    runs: list[Run] = []
    with Emulator(log_path=args.data_dir / "emulator.log") as emulator, emulator.client() as tg:
        started = time.perf_counter()
        with bundled_corpus_bot(emulator, tg, args.data_dir, env) as bot:
            print(f"bot ready in {time.perf_counter() - started:.1f} s")
            for i, question in enumerate(BOT_QUESTIONS[:4]):  # warm-up
                tg.send_message(question, user_id=999_000 + i)
                tg.wait_for_bot_messages(999_000 + i, 1, timeout=60)
            poller = Poller(emulator.client())  # its own connection pool
            poller.start()
            user_ids = itertools.count(1_000_001)
            questions = itertools.cycle(question_list())  # runs go on down the list
            plans = [(rate, "none") for rate in args.rates]
            if args.reindex != "none":
                plans += [(rate, args.reindex) for rate in args.rates]
            for rate, reindex in plans:
                label = f"{rate:g}/s" + (f" + /reindex {reindex}" if reindex != "none" else "")
                run = Run(label, rate)
                users = [next(user_ids) for _ in range(args.users)]
                logged = len(bot.log())
                offer(tg, poller, run, users, questions, args.seconds, reindex)
                run.count_batches(bot.log()[logged:])
                runs.append(run)
                print(run.row(), flush=True)
                time.sleep(2)  # let the bot settle between runs
            poller.stopped.set()
            poller.join()
            tracebacks = bot.log().count("Traceback")
    print(
        f"\n{args.users} users, {args.seconds:g} s per offered load; tracebacks in the bot log: "
        f"{tracebacks}\n"
    )
    print(HEADER)
    for run in runs:
        print(run.row())
    if args.plot is not None:
        plot(runs, args.plot)


if __name__ == "__main__":
    main()
