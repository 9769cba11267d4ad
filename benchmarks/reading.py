"""What a reader sees: the bot's replies captured through the emulator, rendered at phone width.

    .venv/bin/python -m benchmarks.reading [--answerable 24] [--unanswerable 100]
        [--data-dir data/bench-reading] [--out docs/reading] [--screenshots docs]

(run as a module from the repository root: it drives the real bot process with the end-to-end
test harness, and renders with ../shared/tools/telegram-render, which needs Chromium and the
Noto fonts: `apt-get install -y chromium fonts-noto-core fonts-noto-color-emoji`)

Asks the test split of benchmarks/data/news-qa-test.json (answerable) and
benchmarks/data/news-unanswerable.json (unanswerable), presses «المزيد» on the first answers
that offer it (MORE_PAGES) and a full-text button on some, and sends inline queries; saves each
reply as the Bot API call the bot made and renders it as a 390 px wide phone chat. Prints per
reply: visible characters and rendered height (keyboard included), and whether it fits one phone
screen (660 px); then, for first answer pages, «المزيد» pages, full texts and posted inline
results: the share within one screen and the median visible characters; for the unanswerable
questions: how many replies offered "closest" article titles.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
from itertools import count
from pathlib import Path

from bot.messages import EXAMPLE_QUESTIONS
from tests.e2e.harness import (
    BENCH_LOGS,
    REPO_ROOT,
    BotMessage,
    Client,
    Emulator,
    bundled_corpus_bot,
)

RENDER = REPO_ROOT.parent / "shared/tools/telegram-render/render.py"
DATA = REPO_ROOT / "benchmarks/data"
LINE = re.compile(
    r"^(?P<name>\S+): chars=(?P<chars>\d+) .*height=(?P<height>\d+)px.*-> (?P<fit>.*)$"
)
TIMEOUT = 120.0
MORE_PAGES = 4  # «المزيد» is pressed on the first answers that offer it, up to this many


def questions(
    limit_answerable: int, limit_unanswerable: int
) -> tuple[list[str], list[tuple[str, str]]]:
    """Answerable questions, and (question, "near" or "off") the corpus cannot answer."""
    qa = json.loads((DATA / "news-qa-test.json").read_text(encoding="utf-8"))
    answerable = [q["question"] for a in qa["data"] for p in a["paragraphs"] for q in p["qas"]]
    unanswerable = json.loads((DATA / "news-unanswerable.json").read_text(encoding="utf-8"))
    # The bot's first example question (the seed article) leads: it is the README's screenshot.
    answerable = [EXAMPLE_QUESTIONS[0], *(q for q in answerable if q != EXAMPLE_QUESTIONS[0])]
    return answerable[:limit_answerable], [
        (q["question"], q["kind"]) for q in unanswerable["questions"][:limit_unanswerable]
    ]


def save(out: Path, name: str, message: BotMessage) -> None:
    call = {
        "sent_text": message.sent_text,
        "parse_mode": message.parse_mode,
        "reply_markup": message.reply_markup,
    }
    (out / f"{name}.json").write_text(json.dumps(call, ensure_ascii=False, indent=1))


def ask(tg: Client, question: str, user: int) -> BotMessage:
    before = len(tg.bot_messages(user))
    tg.send_message(question, user_id=user)
    return tg.wait_for_bot_messages(user, before + 1, timeout=TIMEOUT)[-1]


def capture(
    tg: Client, out: Path, answerable: list[str], unanswerable: list[tuple[str, str]]
) -> dict:
    """Every reply as `out/NAME.json`; returns which names are first answer pages etc."""
    users = count(2_000_001)
    kinds: dict[str, list[str]] = {
        "answer": [],
        "no_answer": [],
        "more": [],
        "more_refused": [],
        "full": [],
    }
    for i, question in enumerate(answerable):
        user = next(users)
        reply = ask(tg, question, user)
        name = f"q{i:02d}"
        save(out, name, reply)
        answered = any(d.startswith("v|") for d in reply.callback_data)
        kinds["answer" if answered else "no_answer"].append(name)
        full = [d for d in reply.callback_data if d.startswith("a|")]
        if i % 4 == 1 and full:
            before = len(tg.bot_messages(user))
            tg.press_button(reply, full[0], user)
            tg.wait_until(lambda u=user, b=before: len(tg.bot_messages(u)) > b, timeout=TIMEOUT)
            save(out, f"{name}-full", tg.bot_messages(user)[before])
            kinds["full"].append(f"{name}-full")
        more = [d for d in reply.callback_data if d.startswith("p|")]
        if more and len(kinds["more"]) < MORE_PAGES:  # the next page replaces the answer
            pressed = tg.press_button(reply, more[0], user)

            def page_or_toast(u: int = user, r: BotMessage = reply, q: str = pressed) -> object:
                edited = [
                    m
                    for m in tg.bot_messages(u)
                    if m.message_id == r.message_id and m.edits > r.edits
                ]
                toast = (tg.callback_answer(q) or {}).get("text")
                return edited or toast  # a refusal (e.g. the page expired) is a toast, no edit

            shown = tg.wait_until(page_or_toast, timeout=TIMEOUT, what="the «المزيد» page")
            if isinstance(shown, list):
                save(out, f"{name}-more", shown[0])
                kinds["more"].append(f"{name}-more")
            else:
                kinds["more_refused"].append(f"{name}: {shown}")
        if i % 8 == 2:
            query_id = tg.send_inline_query(question, user_id=user)
            tg.wait_until(lambda q=query_id: tg.inline_answer(q) is not None, timeout=TIMEOUT)
            answer = tg.inline_answer(query_id)
            (out / f"{name}-inline.json").write_text(
                json.dumps({"answer": answer}, ensure_ascii=False, indent=1)
            )
    for key in ("unanswerable", "unanswerable_answered", "unanswerable_with_titles"):
        kinds[key] = []
    for i, (question, kind) in enumerate(unanswerable):
        reply = ask(tg, question, next(users))
        name = f"u{i:02d}-{kind}"
        save(out, name, reply)
        if any(d.startswith("v|") for d in reply.callback_data):  # the gate let passages through
            kinds["unanswerable_answered"].append(name)
            continue
        kinds["unanswerable"].append(name)
        if any(d.startswith("a|") for d in reply.callback_data):
            kinds["unanswerable_with_titles"].append(name)
    return kinds


def render(out: Path) -> dict[str, dict[str, object]]:
    files = sorted(str(p) for p in out.glob("*.json"))
    result = subprocess.run(
        [sys.executable, str(RENDER), *files, "--out", str(out)],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    figures = {}
    for line in result.stdout.splitlines():
        match = LINE.match(line.strip())
        if match:
            figures[match["name"]] = {
                "chars": int(match["chars"]),
                "height": int(match["height"]),
                "fits": match["fit"].startswith("fits"),
            }
    return figures


def report(kinds: dict, figures: dict[str, dict[str, object]]) -> None:
    for name in sorted(figures):
        f = figures[name]
        if name.endswith("_popup"):  # the inline results list: drawn, not a chat bubble
            print(f"{name:14s} (inline results popup: drawn, not measured)")
            continue
        print(f"{name:14s} chars={f['chars']:5d} height={f['height']:5d}px fits={f['fits']}")
    # the renderer names each posted inline result (NAME-inline_posted1, ...): known only now
    kinds["inline"] = [n for n in figures if "-inline_posted" in n]
    for kind in ("answer", "more", "no_answer", "unanswerable", "full", "inline"):
        names = [n for n in kinds.get(kind, []) if n in figures]
        if not names:
            continue
        chars = [int(figures[n]["chars"]) for n in names]  # type: ignore[call-overload]
        fit = sum(1 for n in names if figures[n]["fits"])
        print(
            f"{kind:13s} n={len(names):3d}  within one screen {fit}/{len(names)} "
            f"({fit / len(names):.0%})  visible chars median {statistics.median(chars):.0f}, "
            f"max {max(chars)}"
        )
    if kinds["more_refused"]:
        print(f"«المزيد» refused (a toast, no page): {'; '.join(kinds['more_refused'])}")
    answered, refused = kinds["unanswerable_answered"], kinds["unanswerable"]
    titled = kinds["unanswerable_with_titles"]
    print(
        f"unanswerable questions: {len(answered)} answered anyway (the gate let passages "
        f"through: {', '.join(answered) or '-'}); of the {len(refused)} refused, "
        f"{len(titled)} offered closest titles ({', '.join(titled) or '-'})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answerable", type=int, default=24)
    parser.add_argument("--unanswerable", type=int, default=100)
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT / "data" / "bench-reading")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "data" / "bench-reading" / "out")
    parser.add_argument("--screenshots", type=Path, help="copy three screenshots here")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    for log in BENCH_LOGS:
        (args.data_dir / log).unlink(missing_ok=True)
    answerable, unanswerable = questions(args.answerable, args.unanswerable)
    with Emulator(log_path=args.data_dir / "emulator.log") as emulator, emulator.client() as tg:
        bot = bundled_corpus_bot(emulator, tg, args.data_dir)
        with bot:
            kinds = capture(tg, args.out, answerable, unanswerable)
    figures = render(args.out)
    report(kinds, figures)
    if args.screenshots:
        picks = {
            "reply-answer.png": kinds["answer"][0],
            "reply-full-text.png": (kinds["full"] or kinds["answer"])[0],
            "reply-no-answer.png": next(
                (n for n in kinds["unanswerable"] if n not in kinds["unanswerable_with_titles"]),
                (kinds["unanswerable"] or ["q00"])[0],
            ),
        }
        args.screenshots.mkdir(parents=True, exist_ok=True)
        for target, name in picks.items():
            shutil.copyfile(args.out / f"{name}.png", args.screenshots / target)
            print(f"{args.screenshots / target} <- {name}")


if __name__ == "__main__":
    main()
