"""Developer CLI: python -m retrieval ingest|build|ask|eval|chat|prepare|migrate|feeds."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import InterfaceError, OperationalError

from corpus import BUNDLED_CORPUS
from corpus.feeds.store import FeedView
from retrieval.encoder import Encoder
from retrieval.errors import EmptyQuery, RetrievalError
from retrieval.gate import MIN_RELEVANCE
from retrieval.library import Library
from retrieval.logs import setup_logging
from retrieval.query import MODES, Mode, Query
from retrieval.recency import detect
from retrieval.render import render_hits_text
from retrieval.settings import LibrarySettings, SettingsError
from retrieval.types import Hit


def _positive(value: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _relevance(value: str) -> float:
    """argparse type: a probability threshold in [-1, 1] (as MIN_RELEVANCE allows; <= 0 shows
    every hit)."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not -1.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between -1 and 1, got {number}")
    return number


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m retrieval", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ingest = sub.add_parser("ingest", help="store articles from .jsonl/.txt/.md files or folders")
    ingest.add_argument("paths", nargs="+", type=Path)
    ingest.add_argument("--no-build", action="store_true", help="do not update the index")
    build = sub.add_parser("build", help="build or update the index")
    generation = build.add_mutually_exclusive_group()
    generation.add_argument(
        "--fresh", action="store_true", help="a new index generation from the stored vectors"
    )
    generation.add_argument(
        "--full", action="store_true", help="a new index generation, every passage re-embedded"
    )
    ask = sub.add_parser("ask", help="ask one question")
    ask.add_argument("question")
    ask.add_argument("--k", type=_positive, default=5)
    ask.add_argument("--mode", choices=MODES, default="hybrid")
    ask.add_argument("--json", action="store_true")
    chat = sub.add_parser("chat", help="ask questions line by line from the terminal")
    chat.add_argument("--k", type=_positive, default=3)
    chat.add_argument("--mode", choices=MODES, default="hybrid")
    chat.add_argument(
        "--min-relevance",
        type=_relevance,
        default=MIN_RELEVANCE,
        help=f"answer gate threshold, -1 to 1; <= 0 shows every hit (default {MIN_RELEVANCE})",
    )
    sub.add_parser("prepare", help="ingest the bundled corpus and build the index if needed")
    migrate = sub.add_parser(
        "migrate", help="upgrade the database schema (every start does it too)"
    )
    migrate.add_argument(
        "--down-to",
        metavar="REVISION",
        help="take the schema back to REVISION instead (e.g. 0005), before rolling back a release",
    )
    feeds = sub.add_parser("feeds", help="RSS/Atom feeds the corpus follows (cron: feeds poll)")
    action = feeds.add_subparsers(dest="action", required=True)
    add = action.add_parser("add", help="follow a feed")
    add.add_argument("url")
    add.add_argument("name", nargs="?", help="the outlet, as citations show it (default: host)")
    action.add_parser("list", help="the feeds, their last poll and last error")
    remove = action.add_parser("remove", help="stop following a feed (its articles stay)")
    remove.add_argument("feed_id", type=_positive)
    poll = action.add_parser("poll", help="poll the due feeds (or these) now, then index")
    poll.add_argument("feed_ids", nargs="*", type=_positive)
    ev = sub.add_parser("eval", help="measure retrieval on a SQuAD-format QA file")
    ev.add_argument("qa_file", type=Path)
    ev.add_argument("--k", type=_positive, default=10)
    ev.add_argument("--mode", choices=(*MODES, "all"), default="hybrid")
    ev.add_argument("--json", action="store_true")
    ev.add_argument("--report", type=Path, help="write a Markdown report and plot here")
    ev.add_argument(
        "--no-fold", action="store_true", help="do not fold reprinted passages into one result"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    setup_logging("WARNING", fmt="%(levelname)s %(name)s: %(message)s")
    try:
        settings = LibrarySettings.load()
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        return int(_COMMANDS[args.command](args, settings))
    except RetrievalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (OperationalError, InterfaceError) as exc:  # e.g. `migrate` before any library
        print(f"error: database unavailable: {exc.orig or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def cmd_ingest(args: argparse.Namespace, settings: LibrarySettings) -> int:
    library = Library.open(settings)
    report = library.ingest_paths(args.paths, show_progress=True)
    print(report.summary())
    for problem in report.problems:
        kind = "skipped" if problem.skipped else "note"
        print(f"  {kind} {problem.where}: {problem.reason}", file=sys.stderr)
    if not args.no_build and (report.changed or library.is_stale()):
        print(library.build(show_progress=True).summary())
    stored = report.added or report.updated or report.unchanged
    return 1 if report.problems and not stored else 0


def cmd_migrate(args: argparse.Namespace, settings: LibrarySettings) -> int:
    """Without loading the model: what an operator runs before starting new replicas."""
    from alembic.util import CommandError

    from corpus.schema import current_revision, downgrade, head_revision
    from corpus.store import create_db_engine, init_db

    engine = create_db_engine(settings.database_url)
    try:
        before = current_revision(engine)
        if args.down_to:
            try:
                downgrade(engine, args.down_to)
            except CommandError as exc:
                print(f"error: cannot go down to {args.down_to!r}: {exc}", file=sys.stderr)
                return 2
        else:
            init_db(engine)
        after = current_revision(engine)
    finally:
        engine.dispose()
    print(f"database schema at revision {after} (was {before or 'none'}; newest {head_revision()})")
    return 0


def cmd_feeds(args: argparse.Namespace, settings: LibrarySettings) -> int:
    """add / list / remove need the database only; poll loads the model to index."""
    from corpus.feeds.store import FeedProblem, add_feed, list_feeds, remove_feed
    from corpus.store import create_db_engine, init_db, make_session_factory

    if args.action == "poll":
        return _poll_feeds(args.feed_ids or None, settings)
    engine = create_db_engine(settings.database_url)
    init_db(engine)
    try:
        with make_session_factory(engine)() as session:
            if args.action == "add":
                feed = add_feed(session, args.url, args.name)
                print(f"feed {feed.id} added: {feed.name} <{feed.url}>")
            elif args.action == "remove":
                if not remove_feed(session, args.feed_id):
                    print(f"error: no feed {args.feed_id}", file=sys.stderr)
                    return 2
                print(f"feed {args.feed_id} removed (its articles stay)")
            else:
                for view in list_feeds(session):
                    print(_feed_line(view))
    except FeedProblem as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    return 0


def _feed_line(view: FeedView) -> str:
    def when(moment: datetime | None) -> str:
        return moment.isoformat(timespec="minutes") if moment else "never"

    line = (
        f"{view.id}\t{view.name}\t{view.url}\tpolled {when(view.polled_at)}\t"
        f"items {view.items_seen}\tarticles {view.articles_added}"
    )
    if view.last_error:
        line += f"\terror ({view.failures} in a row): {view.last_error}"
        line += f"\tnext poll {when(view.next_poll_at)}"
    return line


def _poll_feeds(feed_ids: list[int] | None, settings: LibrarySettings) -> int:
    from retrieval.feeds import poll_feeds

    library = Library.open(settings)
    reports = poll_feeds(library, settings, feed_ids)
    for report in reports:
        if report.missing:
            print(f"error: no feed {report.feed_id}", file=sys.stderr)
        elif report.busy:
            print(f"feed {report.feed_id}: being polled by another process")
        elif report.error:
            print(f"feed {report.feed_id} {report.name}: error: {report.error}")
        else:
            print(
                f"feed {report.feed_id} {report.name}: {report.entries} items, {report.new} new,"
                f" {len(report.added)} articles added, {report.summaries} from summaries,"
                f" {len(report.failed)} failed" + (" (not modified)" * report.not_modified)
            )
            for url, why in report.failed:
                print(f"  failed {url}: {why}", file=sys.stderr)
    if any(r.added or r.updated for r in reports) or library.is_stale():
        print(library.build().summary())
    if any(r.missing for r in reports):
        return 2
    return 1 if reports and all(r.error for r in reports) else 0


def cmd_build(args: argparse.Namespace, settings: LibrarySettings) -> int:
    library = Library.open(settings)
    print(library.build(full=args.full, fresh=args.fresh, show_progress=True).summary())
    return 0


def cmd_ask(args: argparse.Namespace, settings: LibrarySettings) -> int:
    library = Library.open(settings)
    started = time.perf_counter()
    hits = library.search(args.question, args.k, mode=args.mode)
    elapsed = time.perf_counter() - started
    if args.json:
        print(json.dumps([_hit_json(h) for h in hits], ensure_ascii=False, indent=2))
    else:
        print(render_hits_text(hits))
        print(f"({len(hits)} results in {elapsed * 1000:.0f} ms)", file=sys.stderr)
    return 0


def _hit_json(hit: Hit) -> dict:
    """A hit as flat JSON: its citation's fields beside the passage's, dates in ISO 8601."""
    data = asdict(hit)
    data.update(_citation_json(data.pop("citation")))
    data["answer_sentence"] = hit.answer_sentence
    data["relevance"] = hit.relevance  # the answer gate's probability (retrieval/gate.py)
    data["also_in"] = [_citation_json(ref) for ref in data["also_in"]]
    return data


def _citation_json(cited: dict) -> dict:
    published = cited["published_at"]
    return {**cited, "published_at": published.isoformat() if published else None}


# The chat shows what the bot would by default: the passages the answer gate passes at
# MIN_RELEVANCE, newest first for a question asking for the latest.
CHAT_EMPTY = "لم أجد في سؤالك كلمات أبحث بها. اكتب سؤالك بالكلمات، مثلاً: ما آخر أخبار النفط؟"
CHAT_NOTHING = "لم أجد في الأخبار ما يجيب عن سؤالك. جرّب كلمات أخرى أو اسماً أو مكاناً من الخبر."


def cmd_chat(args: argparse.Namespace, settings: LibrarySettings) -> int:
    library = prepare(settings)
    print("اكتب سؤالك ثم Enter (Ctrl-D للخروج).", flush=True)
    for line in sys.stdin:
        question = line.strip()
        if question:
            print(chat_reply(library, question, args.k, args.mode, args.min_relevance), flush=True)
    return 0


def chat_reply(
    library: Library, question: str, k: int, mode: Mode, min_relevance: float = MIN_RELEVANCE
) -> str:
    """The console chat's answer to one question, as text: the hits of the first `k` that
    pass the answer gate at `min_relevance`."""
    query = Query(question, k, mode, recency=detect(question), min_relevance=min_relevance)
    try:
        [result] = library.search_many([query])
    except RetrievalError as exc:  # the whole search failed (e.g. no index, no database)
        result = exc
    if isinstance(result, EmptyQuery):
        return CHAT_EMPTY
    if isinstance(result, RetrievalError):
        return f"تعذّر البحث: {result}"
    hits = [h for h in result if h.passes(min_relevance)]
    return render_hits_text(hits) if hits else CHAT_NOTHING


def prepare(
    settings: LibrarySettings, corpus_dir: Path = BUNDLED_CORPUS, encoder: Encoder | None = None
) -> Library:
    """Open the library and make it ready (`Library.prepare`), telling the terminal what it did."""
    library = Library.open(settings, encoder=encoder)
    for line in library.prepare(corpus_dir, show_progress=True).lines():
        print(line, file=sys.stderr)
    return library


def cmd_prepare(args: argparse.Namespace, settings: LibrarySettings) -> int:
    stats = prepare(settings).stats()
    print(f"ready: {stats.corpus.articles} articles, {stats.index_passages} passages indexed")
    return 0


def cmd_eval(args: argparse.Namespace, settings: LibrarySettings) -> int:
    from retrieval.encoder import load_encoder
    from retrieval.evaluate import evaluate, load_squad, metrics

    if not args.qa_file.is_file():
        what = "a folder, not a file" if args.qa_file.is_dir() else "no such file"
        print(f"error: {args.qa_file}: {what}", file=sys.stderr)
        return 2
    try:
        load_squad(args.qa_file)  # before the model loads: a bad file is told at once
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    modes: tuple[Mode, ...] = MODES if args.mode == "all" else (args.mode,)
    encoder = load_encoder(settings.model, settings.cache_dir)
    started = time.perf_counter()
    qa, results, passages = evaluate(
        args.qa_file, encoder, modes, args.k, not args.no_fold, settings
    )
    elapsed = time.perf_counter() - started
    table = {mode: metrics(outcomes, passages) for mode, outcomes in results.items()}
    if args.report:
        from retrieval.report import write_report

        write_report(args.report, args.qa_file, qa, results, table)
        print(f"report written to {args.report}", file=sys.stderr)
    if args.json:
        keys = (
            "recall@1",
            "recall@5",
            "recall@10",
            "mrr@10",
            "questions",
            "passages",
            "answer_in_sentence",
        )
        out = {mode: {key: row[key] for key in keys} for mode, row in table.items()}
        print(json.dumps(out[modes[0]] if len(modes) == 1 else out))
    else:
        for mode, row in table.items():
            print(mode.ljust(8), "  ".join(f"{key}={value}" for key, value in row.items()))
    print(f"evaluated in {elapsed:.1f} s", file=sys.stderr)
    return 0


_COMMANDS = {
    "ingest": cmd_ingest,
    "build": cmd_build,
    "ask": cmd_ask,
    "chat": cmd_chat,
    "prepare": cmd_prepare,
    "migrate": cmd_migrate,
    "eval": cmd_eval,
    "feeds": cmd_feeds,
}
