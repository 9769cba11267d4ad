"""The embedded index at growing corpus sizes: ingest, builds, add/delete, latency, memory, disk.

    .venv/bin/python benchmarks/scale.py [--sizes 1000 5000 full] [--archive FILE]
        [--encoder auto|real|standin] [--real-max 1000] [--questions 200]
        [--throughput-sample 256] [--json benchmarks/results/scale.json] [--plot docs/scale.png]
        [--replot benchmarks/results/scale.json]

For each size N (the first N articles of the archive; "full" = all of it), in a fresh temporary
directory, through `retrieval.library.Library`, one row of:
  ingest s          `ingest_paths` of a .jsonl of the first N lines (the product path)
  cold build s      `build()` with an empty embedding store: every passage encoded
  stored build s    `build()` into a fresh index dir holding only a copy of that embedding
                    store: the rebuild from stored vectors (`reused` passages in brackets)
  p50/p95 ms        question latency per mode (k=3, in process) over ARCD-test questions,
                    modes interleaved per question, after 5 warm-up questions
  add→answer s      then, on that warm library: `add_articles([a new article])` + `build()`,
                    until a question about it gets it as first hit (hybrid); in brackets the
                    same for another new article by the lexical side alone, polled while a
                    thread runs the build
  delete s          `delete_article` + `build()`, until the article has left the hits
  RSS MB            serving: a subprocess that only opens the library and answers questions
                    (what a bot holds; its `Library.open` seconds in brackets, model loaded);
                    after: this process at the end; peak: this process's VmHWM, reset at the
                    start of each size (so: model + ingest + builds + serving of that size)
  index MB          files under the index dir, embeddings.sqlite(-wal) in brackets

Rows marked "stand-in" (sizes above --real-max unless --encoder real) embed passages as hashed
bag-of-words vectors: their builds measure everything but the model (and their dense hits mean
nothing); questions are always encoded by the real model. The real model's passages/s on a
sample of archive passages then projects the cold build of the whole archive.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import gzip
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from corpus.ingest import stream_paths
from corpus.split import clean_text, split_passages
from retrieval.encoder import Encoder, load_encoder
from retrieval.evaluate import load_squad
from retrieval.index import EMBED_BATCH, IndexInput, embedding_text
from retrieval.library import Library
from retrieval.query import MODES, Mode
from retrieval.settings import LibrarySettings
from retrieval.types import ArticleRecord

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
STORE = "embeddings.sqlite"
# Made-up news with unique names (title, body, question): one to answer in hybrid mode, the other
# by the lexical side alone.
NEW_ARTICLES = (
    (
        "شركة زهرة الصحراء للطاقة توقع اتفاقية لإنشاء محطة شمسية في تبوك",
        "وقعت شركة زهرة الصحراء للطاقة اليوم اتفاقية مع وزارة الطاقة لإنشاء محطة للطاقة الشمسية "
        "بقدرة 740 ميغاواط شمال مدينة تبوك. وقال الرئيس التنفيذي للشركة المهندس سلطان الفيروزي إن "
        "المحطة ستزود أكثر من 120 ألف منزل بالكهرباء عند اكتمالها في عام 2027.",
        "ما الاتفاقية التي وقعتها شركة زهرة الصحراء للطاقة؟",
    ),
    (
        "انطلاق مهرجان القمر الفضي للخط العربي في الأحساء",
        "انطلقت مساء أمس فعاليات مهرجان القمر الفضي للخط العربي في محافظة الأحساء بمشاركة 85 "
        "خطاطا من 14 دولة، ويضم معرضا لأكثر من 300 لوحة بخطوط الثلث والديواني والكوفي.",
        "أين يقام مهرجان القمر الفضي للخط العربي؟",
    ),
)


class StandinPassages:
    """The real model for questions and answer sentences; hashed bag-of-words passage vectors
    (cheap, deterministic, L2-normalized), under a fingerprint of their own."""

    def __init__(self, real: Encoder) -> None:
        self.real = real
        self.name = f"{real.name}+standin-passages"
        self.fingerprint = f"{real.fingerprint}-standin-passages"
        self.dim = real.dim
        self.max_tokens = real.max_tokens

    def encode_queries(self, texts: Sequence[str], *, quantized: bool = False) -> np.ndarray:
        return self.real.encode_queries(texts, quantized=quantized)

    def encode_sentences(self, texts: Sequence[str]) -> np.ndarray:
        return self.real.encode_sentences(texts)

    def count_passage_tokens(self, text: str) -> int:
        return self.real.count_passage_tokens(text)

    def vocabulary(self) -> Mapping[str, int]:
        return self.real.vocabulary()

    def encode_passages(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        rows = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            buckets = [zlib.crc32(word.encode()) % self.dim for word in text.split()]
            rows[row] = np.bincount(buckets, minlength=self.dim)
        return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def memory_mb() -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak) of this process."""
    status = Path("/proc/self/status").read_text().splitlines()
    fields = {k: v for k, _, v in (line.partition(":") for line in status)}
    return {key: int(fields[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM")}


def reset_peak() -> None:
    """Set VmHWM back to the current RSS (Linux: 5 > /proc/self/clear_refs)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def open_library(work: Path, index: str, encoder: Encoder) -> Library:
    settings = LibrarySettings(
        database_url=f"sqlite:///{work / 'corpus.db'}", index_dir=work / index
    )
    return Library.open(settings, encoder=encoder)


def open_archive(archive: Path) -> Any:
    return gzip.open(archive, "rb") if archive.name.endswith(".gz") else archive.open("rb")


def ingest(library: Library, archive: Path, lines: int | None, work: Path) -> float:
    source = archive
    if lines is not None:
        source = work / "first.jsonl"
        with open_archive(archive) as src, source.open("wb") as dst:
            dst.writelines(islice(src, lines))
    started = time.perf_counter()
    report = library.ingest_paths([source])
    seconds = time.perf_counter() - started
    if report.problems:
        print(f"  ingest: {len(report.problems)} problems, first: {report.problems[0]}")
    return seconds


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def until(check: Callable[[], bool], started: float, timeout: float) -> float | None:
    """Seconds from `started` to the first true `check()`; None after `timeout` seconds."""
    while not check():
        if time.perf_counter() - started > timeout:
            return None
        time.sleep(0.005)
    return time.perf_counter() - started


def first_hit(library: Library, question: str, mode: Mode, article_id: int) -> bool:
    hits = library.search(question, 3, mode=mode)
    return bool(hits) and hits[0].article_id == article_id


def add_and_delete(library: Library, timeout: float) -> dict[str, float | None]:
    (title_a, body_a, question_a), (title_b, body_b, question_b) = NEW_ARTICLES
    started = time.perf_counter()
    a = library.add_articles([ArticleRecord(title_a, body_a, "scale-benchmark")]).added[0]
    library.build()
    answerable = until(lambda: first_hit(library, question_a, "hybrid", a), started, timeout)
    started = time.perf_counter()
    b = library.add_articles([ArticleRecord(title_b, body_b, "scale-benchmark")]).added[0]
    with ThreadPoolExecutor(1) as pool:
        build = pool.submit(library.build)
        lexical = until(lambda: first_hit(library, question_b, "lexical", b), started, timeout)
        build.result()
    started = time.perf_counter()
    library.delete_article(a)
    library.build()
    gone = until(
        lambda: all(hit.article_id != a for hit in library.search(question_a, 3)), started, timeout
    )
    library.delete_article(b)  # back to the archive's articles alone
    library.build()
    return {"add_answerable_s": answerable, "add_lexical_s": lexical, "delete_s": gone}


def questions(qa_file: Path, count: int) -> list[str]:
    return [q.text for q in load_squad(qa_file).questions][:count]


def latency(library: Library, asked: list[str], warmup: list[str], k: int) -> dict[str, float]:
    for question in warmup:
        for mode in MODES:
            library.search(question, k, mode=mode)
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    for i, question in enumerate(asked):
        for mode in MODES[i % 3 :] + MODES[: i % 3]:  # each mode first a third of the time
            started = time.perf_counter()
            library.search(question, k, mode=mode)
            times[mode].append(1000 * (time.perf_counter() - started))
    figures = {f"{m}_p50_ms": statistics.median(values) for m, values in times.items()}
    figures |= {f"{m}_p95_ms": sorted(v)[int(0.95 * (len(v) - 1))] for m, v in times.items()}
    return figures


def serving(work: Path, standin: bool, args: argparse.Namespace) -> dict[str, float]:
    """RSS (MB) of a fresh process that opens the library and answers --serve-questions, and
    the seconds its `Library.open` took (model already loaded)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--serve-only", str(work)]
    command += ["--qa", str(args.qa), "--serve-questions", str(args.serve_questions)]
    command += ["--standin-passages"] if standin else []
    out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
    return {f"serving_{k}": v for k, v in json.loads(out.splitlines()[-1]).items()}


def serve_only(args: argparse.Namespace, real: Encoder) -> None:
    encoder = StandinPassages(real) if args.standin_passages else real
    opened, library = timed(lambda: open_library(args.serve_only, "index", encoder))
    if not library.ready:
        raise SystemExit(f"serve-only: no index served ({library.load_error})")
    for question in questions(args.qa, args.serve_questions):
        for mode in MODES:
            library.search(question, args.k, mode=mode)
    memory = memory_mb()
    print(json.dumps({"rss_mb": memory["VmRSS"], "peak_mb": memory["VmHWM"], "open_s": opened}))


def folder_mb(folder: Path, prefix: str = "") -> float:
    files = (p for p in folder.rglob(f"{prefix}*") if p.is_file())
    return sum(p.stat().st_size for p in files) / 2**20


def run_size(
    label: str, lines: int | None, standin: bool, real: Encoder, args: argparse.Namespace
) -> dict[str, Any]:
    encoder = StandinPassages(real) if standin else real
    asked = questions(args.qa, args.questions + 5)
    reset_peak()
    row: dict[str, Any] = {"size": label, "lines": lines}
    row["encoder"] = "stand-in" if standin else "real"
    with tempfile.TemporaryDirectory(prefix="sanad-scale-") as tmp:
        work = Path(tmp)
        cold = open_library(work, "index-cold", encoder)
        row["ingest_s"] = ingest(cold, args.archive, lines, work)
        row["cold_build_s"], report = timed(cold.build)
        stats = cold.corpus_stats()
        row.update(articles=stats.articles, passages=stats.passages, embedded=report.embedded)
        cold.engine.dispose()
        del cold  # Library has no close(): its index's connections go with it
        gc.collect()
        (work / "index").mkdir()
        with (
            contextlib.closing(sqlite3.connect(work / "index-cold" / STORE)) as src,
            contextlib.closing(sqlite3.connect(work / "index" / STORE)) as dst,
        ):
            src.backup(dst)
        library = open_library(work, "index", encoder)
        row["stored_build_s"], report = timed(library.build)
        row["reused"] = report.reused
        # questions first: then add→answerable is timed on a warm library, as in a bot
        row.update(latency(library, asked[: args.questions], asked[args.questions :], args.k))
        row.update(add_and_delete(library, args.timeout))
        memory = memory_mb()
        row.update(rss_mb=memory["VmRSS"], peak_mb=memory["VmHWM"])
        row.update(serving(work, standin, args))
        row["index_mb"] = folder_mb(work / "index")
        row["embeddings_mb"] = folder_mb(work / "index", STORE)
        library.engine.dispose()
    return row


def model_rate(real: Encoder, archive: Path, count: int) -> tuple[float, int]:
    """Real-model passages/s over the archive's first `count` passages (split as ingest does,
    as benchmarks/throughput.py's `sample`), length-sorted batches of EMBED_BATCH."""
    texts: list[str] = []
    for record in stream_paths([archive], []):
        for span in split_passages(clean_text(record.body)):
            texts.append(embedding_text(IndexInput(0, record.title, span.text)))
        if len(texts) >= count:
            break
    texts = sorted(texts[:count], key=len)
    real.encode_passages(texts[:EMBED_BATCH], batch_size=EMBED_BATCH)  # warm-up
    started = time.perf_counter()
    for start in range(0, len(texts), EMBED_BATCH):
        real.encode_passages(texts[start : start + EMBED_BATCH], batch_size=EMBED_BATCH)
    return len(texts) / (time.perf_counter() - started), len(texts)


def cell(value: Any, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| size | passages enc. | articles | passages | ingest s | cold build s | stored build s"
        " (reused) | add→answer s (lexical) | delete s | dense p50/p95 ms | lexical p50/p95 ms"
        " | hybrid p50/p95 ms | RSS MB serving (open s) | after | peak | index MB (embeddings) |"
    )
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for r in rows:
        latency = [f"{r[f'{m}_p50_ms']:.0f} / {r[f'{m}_p95_ms']:.0f}" for m in MODES]
        lines.append(
            f"| {r['size']} | {r['encoder']} | {r['articles']} | {r['passages']} "
            f"| {cell(r['ingest_s'])} | {cell(r['cold_build_s'])} "
            f"| {cell(r['stored_build_s'])} ({r['reused']}) "
            f"| {cell(r['add_answerable_s'], 2)} ({cell(r['add_lexical_s'], 2)}) "
            f"| {cell(r['delete_s'], 2)} | {' | '.join(latency)} "
            f"| {r['serving_rss_mb']:.0f} ({r['serving_open_s']:.1f}) "
            f"| {r['rss_mb']:.0f} | {r['peak_mb']:.0f} "
            f"| {r['index_mb']:.1f} ({r['embeddings_mb']:.1f}) |"
        )
    return "\n".join(lines)


def projection(rows: list[dict[str, Any]], rate: float, total_lines: int) -> str:
    """Cold build of the whole archive: its passages / the model's rate + the rest of a build
    (the cold build of the largest stand-in row, else the stored-vectors build), both scaled
    linearly by passages from the largest row."""
    ref = max(rows, key=lambda r: r["passages"])
    passages = ref["passages"] * total_lines / (ref["lines"] or total_lines)
    standins = [r for r in rows if r["encoder"] == "stand-in"]
    rest_row = max(standins, key=lambda r: r["passages"]) if standins else ref
    rest_key = "cold_build_s" if standins else "stored_build_s"
    rest = rest_row[rest_key] * passages / rest_row["passages"]
    total = passages / rate + rest
    text = (
        f"projected cold build of the whole archive ({total_lines} articles, ~{passages:.0f}"
        f" passages): {passages / rate:.0f} s encoding + {rest:.0f} s the rest "
        f"({rest_key} of size {rest_row['size']}, scaled) = {total:.0f} s ({total / 3600:.1f} h)"
    )
    real = [r for r in rows if r["encoder"] == "real"]
    if real:  # the rate a whole build achieved (batching, store writes, a busy machine...)
        big = max(real, key=lambda r: r["passages"])
        seconds = big["cold_build_s"] * passages / big["passages"]
        text += f"; at the cold-build rate of size {big['size']}: {seconds / 3600:.1f} h"
    return text


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    x = [r["passages"] for r in rows]
    hollow = [r["encoder"] == "stand-in" for r in rows]
    panels = {
        "ingest s": {"ingest": "ingest_s"},
        "build s": {"cold": "cold_build_s", "stored vectors": "stored_build_s"},
        "add → answerable s": {"hybrid": "add_answerable_s", "lexical": "add_lexical_s"},
        "question latency ms (p50 —, p95 --)": {
            f"{m} {p}": f"{m}_{p}_ms" for m in MODES for p in ("p50", "p95")
        },
        "RSS MB": {"serving": "serving_rss_mb", "after": "rss_mb", "peak": "peak_mb"},
        "index MB": {"index": "index_mb", "embeddings": "embeddings_mb"},
    }
    fig, axes = plt.subplots(2, 3, figsize=(14, 7.5))
    for ax, (title, series) in zip(axes.flat, panels.items(), strict=True):
        for i, (name, key) in enumerate(series.items()):
            y = [np.nan if r[key] is None else r[key] for r in rows]
            style = "--" if name.endswith("p95") else "-"
            color = f"C{i // 2}" if "latency" in title else f"C{i}"
            label = None if name.endswith("p95") else name.removesuffix(" p50")
            ax.plot(x, y, style, marker="o", color=color, label=label)
            open_x = [v for v, h in zip(x, hollow, strict=True) if h]
            open_y = [v for v, h in zip(y, hollow, strict=True) if h]
            ax.scatter(open_x, open_y, s=40, color="white", edgecolors=color, zorder=3)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())  # 2x10^3 3x10^3 ... overlap
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("corpus passages", fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("Sanad embedded index by corpus size (hollow: stand-in passage encoder)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    archive = ROOT.parent / "shared/data/news/saudinewsnet_full.jsonl.gz"
    parser.add_argument("--sizes", nargs="+", default=["1000", "5000", "full"])
    parser.add_argument("--archive", type=Path, default=archive)
    parser.add_argument("--qa", type=Path, default=ROOT.parent / "shared/data/arcd/arcd-test.json")
    parser.add_argument("--encoder", choices=["auto", "real", "standin"], default="auto")
    parser.add_argument("--real-max", type=int, default=1000, help="auto: real model up to N")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--serve-questions", type=int, default=50)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0, help="add/delete wait, s")
    parser.add_argument("--throughput-sample", type=int, default=256)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/scale.json")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs/scale.png")
    parser.add_argument("--serve-only", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--standin-passages", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--replot", type=Path, help="only redraw --plot from this JSON")
    args = parser.parse_args()
    if args.replot is not None:
        plot(json.loads(args.replot.read_text())["rows"], args.plot)
        return
    settings = LibrarySettings.load()
    real = load_encoder(settings.model, settings.cache_dir)
    if args.serve_only is not None:
        serve_only(args, real)
        return
    with open_archive(args.archive) as handle:
        total_lines = sum(1 for _ in handle)
    rows: list[dict[str, Any]] = []
    for size in args.sizes:
        started = time.perf_counter()
        lines = None if size == "full" else int(size)
        n = total_lines if lines is None else lines
        standin = args.encoder == "standin" or (args.encoder == "auto" and n > args.real_max)
        rows.append(run_size(size, lines, standin, real, args))
        done = f"{rows[-1]['passages']} passages, {rows[-1]['encoder']} passage encoder"
        print(f"size {size}: {done}, {time.perf_counter() - started:.0f} s", flush=True)
    rate, sampled = model_rate(real, args.archive, args.throughput_sample)
    print()
    print(table(rows))
    print()
    if any(r["encoder"] == "stand-in" for r in rows):
        print("stand-in rows: passages embedded as hashed bag-of-words vectors (no model cost)")
    real_rows = [r for r in rows if r["encoder"] == "real"]
    builds = [f"{r['embedded'] / r['cold_build_s']:.1f} (size {r['size']})" for r in real_rows]
    print(
        f"real model: {rate:.1f} passages/s on {sampled} archive passages in length-sorted "
        f"batches of {EMBED_BATCH}; real cold builds: {', '.join(builds) or '—'} passages/s"
    )
    print(projection(rows, rate, total_lines))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    result = {"rows": rows, "model_passages_per_s": rate, "archive_articles": total_lines}
    args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    plot(rows, args.plot)
    print(f"wrote {args.json} and {args.plot}")


if __name__ == "__main__":
    main()
