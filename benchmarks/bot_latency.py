"""Question -> reply time through the Telegram emulator, and /reindex of the demo corpus while
users keep asking. Runs the real bot process (run_bot.py) with the bundled corpus.

    .venv/bin/python -m benchmarks.bot_latency [--questions 50] [--data-dir data/bench-bot]

(run as a module from the repository root: it drives the bot with the end-to-end test harness)

The first run ingests corpus/data and builds the index (minutes on a small CPU); later runs reuse
the database and index in --data-dir.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from pathlib import Path

from tests.e2e.harness import BENCH_LOGS, REPO_ROOT, Client, Emulator, bundled_corpus_bot

QUESTIONS = [
    "ما الذي اتفق عليه الجانبان بشأن الهجرة غير الشرعية؟",
    "من سيلتقي في كأس السوبر الألمانية؟",
    "كم يبلغ راتب والكوت الأسبوعي مع آرسنال؟",
    "هل توترت العلاقات بين مصر والسودان؟",
    "ما علاقة الجلوس الطويل بمرض السكري؟",
    "أين ستقام محطة الكهرباء العاملة بالطاقة الشمسية؟",
    "كم سيغيب سامي خضيرة عن الملاعب؟",
    "كيف أغلقت سوق الأسهم السعودية يوم الاثنين؟",
    "ماذا حدث بين قوات صالح والحوثيين في صنعاء؟",
    "كم بلغ سعر برميل النفط؟",
    "كم أنتجت المملكة من المياه المحلاة؟",
    "كم عدد الإصابات الجديدة بفيروس كورونا؟",
    "ماذا حدث في محافظة ضمد بسبب الأمطار؟",
    "من ترأس جلسة مجلس الوزراء في غياب الملك سلمان؟",
    "كم حياً تخدم شبكة المياه الجديدة في الطائف؟",
    "كيف أكتب دالة تكرارية بلغة بايثون؟",
]
ADMIN = 4242
TIMEOUT = 60.0


def timed_question(tg: Client, question: str, user: int) -> float:
    """Seconds from the user's message to the bot's reply."""
    before = len(tg.bot_messages(user))
    started = time.perf_counter()
    tg.send_message(question, user_id=user)
    tg.wait_for_bot_messages(user, before + 1, timeout=TIMEOUT)
    return time.perf_counter() - started


def describe(name: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p95 = statistics.quantiles(ms, n=20, method="inclusive")[18] if len(ms) > 1 else ms[0]
    print(
        f"{name}: n={len(ms)} median={statistics.median(ms):.0f} ms p95={p95:.0f} ms "
        f"max={ms[-1]:.0f} ms"
    )


def reindex_while_asking(tg: Client, users: itertools.count) -> None:
    """Time a full /reindex while another user asks questions one after another."""
    tg.send_command("reindex", user_id=ADMIN)
    started = time.perf_counter()
    status = tg.wait_for_bot_messages(ADMIN, 1, timeout=TIMEOUT)[-1]
    during: list[float] = []
    questions = itertools.cycle(QUESTIONS)
    while "✅" not in (tg.bot_messages(ADMIN)[-1].text or ""):
        during.append(timed_question(tg, next(questions), next(users)))
        if time.perf_counter() - started > 3600:
            raise TimeoutError("reindex did not finish within an hour")
    elapsed = time.perf_counter() - started
    final = tg.bot_messages(ADMIN)[-1]
    assert final.message_id == status.message_id
    print(f"/reindex (full rebuild) took {elapsed:.1f} s; bot said: {final.text}")
    if during:
        describe("questions answered during the reindex", during)
    else:
        print("no question was answered during the reindex")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT / "data" / "bench-bot")
    parser.add_argument("--no-reindex", action="store_true")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    for log in BENCH_LOGS:
        (args.data_dir / log).unlink(missing_ok=True)
    with Emulator(log_path=args.data_dir / "emulator.log") as emulator, emulator.client() as tg:
        started = time.perf_counter()
        bot = bundled_corpus_bot(emulator, tg, args.data_dir, {"ADMIN_IDS": str(ADMIN)})
        with bot:
            print(f"bot ready in {time.perf_counter() - started:.1f} s")
            users = itertools.count(1_000_001)
            for question in QUESTIONS[:3]:  # warm-up
                timed_question(tg, question, next(users))
            questions = itertools.cycle(QUESTIONS)
            latencies = [
                timed_question(tg, next(questions), next(users)) for _ in range(args.questions)
            ]
            describe("question -> reply through the emulator", latencies)
            if not args.no_reindex:
                reindex_while_asking(tg, users)


if __name__ == "__main__":
    main()
