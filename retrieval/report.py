"""Evaluation report: Markdown summary, recall@k plot for every mode, per-question misses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from retrieval.evaluate import CURVE_K, Outcome, QASet, recall_curve

MISSES_SHOWN = 100
_METRIC_KEYS = ("recall@1", "recall@5", "recall@10", "mrr@10", "answer_in_sentence", "median_ms")


def _snippet(text: str, limit: int = 90) -> str:
    flat = " ".join(text.split()).replace("|", "/")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def plot_recall(path: Path, curves: Mapping[str, Sequence[float]]) -> None:
    """PNG of recall@1..K, one line per mode."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    ks = list(range(1, CURVE_K + 1))
    for mode, curve in curves.items():
        ax.plot(ks, curve, marker="o", markersize=3, label=mode)
    ax.set_xlabel("k")
    ax.set_ylabel("recall@k")
    ax.set_xticks(ks)
    ax.set_ylim(min(min(c) for c in curves.values()) - 0.05, 1.0)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("Retrieval recall@k by mode")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _misses(qa: QASet, outcomes: Sequence[Outcome]) -> list[str]:
    rows = ["| question | gold | gold rank | ranked first |", "|---|---|---|---|"]
    missed = [o for o in outcomes if o.gold_rank != 1]
    for o in missed[:MISSES_SHOWN]:
        gold_index = o.question.paragraph
        gold = f"{qa.titles[gold_index]}: {_snippet(qa.paragraphs[gold_index], 60)}"
        first = (
            f"{qa.titles[o.top_paragraph]}: {_snippet(qa.paragraphs[o.top_paragraph], 60)}"
            if o.top_paragraph is not None
            else "—"
        )
        rank = str(o.gold_rank) if o.gold_rank else f">{CURVE_K}"
        rows.append(f"| {_snippet(o.question.text)} | {gold} | {rank} | {first} |")
    if len(missed) > MISSES_SHOWN:
        rows.append(f"\n… and {len(missed) - MISSES_SHOWN} more.")
    return rows


def write_report(
    folder: Path,
    qa_file: Path,
    qa: QASet,
    results: Mapping[str, Sequence[Outcome]],
    table: Mapping[str, Mapping[str, float | int]],
) -> Path:
    """Write report.md and recall_at_k.png into `folder`; return the Markdown path."""
    folder.mkdir(parents=True, exist_ok=True)
    plot_recall(folder / "recall_at_k.png", {m: recall_curve(o) for m, o in results.items()})
    lines = [
        f"# Retrieval evaluation: {qa_file.name}",
        "",
        f"{len(qa.questions)} questions over {len(qa.paragraphs)} paragraphs "
        f"(each paragraph one article), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "| mode | " + " | ".join(_METRIC_KEYS) + " |",
        "|---|" + "---|" * len(_METRIC_KEYS),
    ]
    for mode, row in table.items():
        lines.append(f"| {mode} | " + " | ".join(str(row[k]) for k in _METRIC_KEYS) + " |")
    lines += ["", "![recall@k](recall_at_k.png)", ""]
    for mode, outcomes in results.items():
        lines += [f"## Misses ({mode}): questions whose gold paragraph was not first", ""]
        lines += _misses(qa, outcomes)
        lines.append("")
    path = folder / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
