"""The answer sentence's rules of this release against the previous ones, in one run.

    .venv/bin/python -m benchmarks.answer_sentence [QA_FILE ...] [--k 10]

For each SQuAD-format file (default: ARCD-test, then the bundled news questions' test split),
indexes its paragraphs in a throwaway store (`retrieval.evaluate.prepare_library`) and asks
every question three times, one rule set after the other question by question, in rotating
order (so machine noise hits all alike): "words" (the sentence chosen by words alone, as before
the model was asked: `Query.model_sentence` off, title words weigh like any other), "previous"
(the model settles close calls; title words weigh like any other, `TITLE_WEIGHT` 1; the model
judges whole sentences, `SENTENCE_CHARS` None) and "current" (the constants of
`retrieval.sentences`). Prints answer_in_sentence (`retrieval.evaluate`), recall@1, and the
question latency median / p95 / mean of each, and the ratios of the medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

import retrieval.sentences as sentences
from retrieval.encoder import load_encoder
from retrieval.evaluate import (
    Outcome,
    answer_in_sentence,
    ask_question,
    load_squad,
    prepare_library,
)
from retrieval.settings import LibrarySettings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = [
    ROOT.parent / "shared/data/arcd/arcd-test.json",
    ROOT / "benchmarks/data/news-qa-test.json",
]
RULES: dict[str, dict[str, object]] = {
    "words": {"TITLE_WEIGHT": 1.0, "SENTENCE_CHARS": None, "model": False},
    "previous": {"TITLE_WEIGHT": 1.0, "SENTENCE_CHARS": None},
    "current": {
        "TITLE_WEIGHT": sentences.TITLE_WEIGHT,
        "SENTENCE_CHARS": sentences.SENTENCE_CHARS,
    },
}


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return (
        f"median {1000 * statistics.median(ordered):5.1f} / p95 {1000 * p95:5.1f} / "
        f"mean {1000 * statistics.mean(ordered):5.1f} ms"
    )


def run(path: Path, k: int) -> None:
    settings = LibrarySettings.load()
    encoder = load_encoder(settings.model, settings.cache_dir)
    qa = load_squad(path)
    outcomes: dict[str, list[Outcome]] = {name: [] for name in RULES}
    with tempfile.TemporaryDirectory(prefix="sanad-answer-sentence-") as tmp:
        library, to_paragraph = prepare_library(qa, encoder, Path(tmp))
        try:
            ask_question(library, to_paragraph, qa.questions[0], "hybrid", k)  # warm-up
            for n, question in enumerate(qa.questions):
                names = list(RULES)[n % len(RULES) :] + list(RULES)[: n % len(RULES)]
                for name in names:
                    rules = dict(RULES[name])
                    model = bool(rules.pop("model", True))
                    for constant, value in rules.items():
                        setattr(sentences, constant, value)
                    found = ask_question(
                        library, to_paragraph, question, "hybrid", k, model_sentence=model
                    )
                    outcomes[name].append(found)
        finally:
            for constant, value in RULES["current"].items():
                setattr(sentences, constant, value)
            library.close()
    print(f"{path.name}: {len(qa.questions)} questions, {len(qa.paragraphs)} paragraphs, k={k}")
    for name, found in outcomes.items():
        recall = sum(o.gold_rank == 1 for o in found) / len(found)
        print(
            f"  {name:8s} answer_in_sentence {answer_in_sentence(found):.4f}  recall@1 "
            f"{recall:.4f}  latency {_ms([o.seconds for o in found])}"
        )
    for base in ("words", "previous"):
        ratio = statistics.median(o.seconds for o in outcomes["current"]) / statistics.median(
            o.seconds for o in outcomes[base]
        )
        print(f"  current / {base} median latency: {ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("qa_files", type=Path, nargs="*", default=DEFAULTS)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    for path in args.qa_files:
        run(path, args.k)


if __name__ == "__main__":
    main()
