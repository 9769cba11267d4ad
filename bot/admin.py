"""Admin commands (/add, /delete, /reindex, /stats); registered behind filters.User(ADMIN_IDS)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from datetime import datetime
from typing import Any

from telegram import Document, Message, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import messages
from bot.format import counted, digits, escape, format_date, shorten
from bot.records import UsageStats, is_outage, record_admin_action, usage_stats
from bot.state import BotState, get_state, message_of, sender_id
from retrieval.errors import BuildInProgress, RetrievalError, StoreUnavailable
from retrieval.types import (
    ArticleRecord,
    BuildReport,
    IngestProblem,
    IngestReport,
    LibraryStats,
    supported,
)

log = logging.getLogger(__name__)
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # the Bot API's own download limit
PROGRESS_EVERY = 1.5  # seconds between edits of the /reindex progress message
PROBLEMS_SHOWN = 10


async def refuse(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin command from someone else: refuse politely, do nothing."""
    await message_of(update).reply_text(messages.ADMINS_ONLY)


async def record(state: BotState, user_id: int, action: str, detail: str, ok: bool) -> None:
    """The audit log; an outage loses the entry (logged), not the admin's reply."""
    try:
        await asyncio.to_thread(
            record_admin_action,
            state.db,
            state.settings.hash_user(user_id),
            action,
            detail,
            ok,
        )
    except Exception as exc:
        if not is_outage(exc):
            raise
        log.warning("admin action %s %r not recorded: database unavailable", action, detail)


# --- /add -------------------------------------------------------------------------------------
def parse_add_text(text: str) -> ArticleRecord | None:
    """`/add Title\\nBody…` -> a record (title on the first line), or None if title or body is
    missing."""
    parts = text.split(maxsplit=1)
    rest = parts[1] if len(parts) > 1 and parts[0].lower().startswith("/add") else ""
    title, _, body = rest.strip().partition("\n")
    title, body = " ".join(title.split()), body.strip()
    return ArticleRecord(title=title, body=body) if title and body else None


async def add(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/add as a reply to a document, or /add followed by a title line and the body."""
    message = message_of(update)
    replied = message.reply_to_message
    if replied is not None and replied.document is not None:
        await _add_document(update, context, replied.document)
        return
    record = parse_add_text(message.text or "")
    if record is None:
        await message.reply_text(messages.ADD_USAGE)
        return
    state = get_state(context)
    try:
        report = await asyncio.to_thread(state.lib.add_articles, [record])
    except StoreUnavailable:
        await message.reply_text(messages.ADD_STORE_UNAVAILABLE)
        return
    await _finish_add(update, context, report, "text")


async def add_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A document sent with the caption /add."""
    document = message_of(update).document
    if document is not None:
        await _add_document(update, context, document)


async def document_hint(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A document from an admin without /add: explain how to add it."""
    await message_of(update).reply_text(messages.ADD_DOCUMENT_HINT)


async def _add_document(
    update: Update, context: ContextTypes.DEFAULT_TYPE, document: Document
) -> None:
    message = message_of(update)
    name = document.file_name or "document.txt"
    if not supported(name):
        await message.reply_text(messages.ADD_UNSUPPORTED_FILE)
        return
    if document.file_size and document.file_size > MAX_DOCUMENT_BYTES:
        size = digits(MAX_DOCUMENT_BYTES // (1024 * 1024))
        await message.reply_text(messages.ADD_FILE_TOO_BIG.format(megabytes=size))
        return
    file = await document.get_file()
    data = bytes(await file.download_as_bytearray())
    try:
        report = await asyncio.to_thread(get_state(context).lib.ingest_document, name, data)
    except StoreUnavailable:
        await message.reply_text(messages.ADD_STORE_UNAVAILABLE)
        return
    await _finish_add(update, context, report, name)


async def _finish_add(
    update: Update, context: ContextTypes.DEFAULT_TYPE, report: IngestReport, what: str
) -> None:
    """Index what changed (unless a full rebuild is running), then report to the admin."""
    state = get_state(context)
    lines = format_ingest_report(report)
    if report.changed:
        indexed = await index_changes(state)
        lines.append(messages.ADD_INDEXED if indexed else messages.ADD_INDEX_LATER)
    await message_of(update).reply_text("\n".join(lines))
    detail = f"{what}: {report.summary()}"
    await record(state, sender_id(update), "add", detail, report.changed)


async def index_changes(state: BotState) -> bool:
    """Incrementally index new passages now; False if a full rebuild will pick them up."""
    if state.reindexing:
        return False  # the rebuild re-checks staleness when it finishes
    try:
        async with state.build_lock:
            await asyncio.to_thread(state.lib.build)
    except BuildInProgress:  # e.g. a CLI build holds the lock
        return False
    return True


def format_ingest_report(report: IngestReport) -> list[str]:
    """Added / updated / unchanged / rejected lines, with the reasons for rejections."""
    lines = []
    if report.added:
        ids = "، ".join(str(i) for i in report.added[:20])
        lines.append(messages.ADD_ADDED.format(count=len(report.added), ids=ids))
    if report.updated:
        ids = "، ".join(str(i) for i in report.updated[:20])
        lines.append(messages.ADD_UPDATED.format(count=len(report.updated), ids=ids))
    if report.unchanged:
        lines.append(messages.ADD_UNCHANGED.format(count=len(report.unchanged)))
    rejected = [p for p in report.problems if p.skipped]
    noted = [p for p in report.problems if not p.skipped]
    for problems, heading in ((rejected, messages.ADD_REJECTED), (noted, messages.ADD_NOTED)):
        if problems:
            lines.append(heading.format(count=len(problems)))
            lines += [_problem_line(problem) for problem in problems[:PROBLEMS_SHOWN]]
    return lines or [messages.ADD_NOTHING]


def _problem_line(problem: IngestProblem) -> str:
    reason = escape(shorten(problem.reason, 200))
    return messages.ADD_PROBLEM.format(where=escape(problem.where), reason=reason)


# --- /delete ----------------------------------------------------------------------------------
async def delete(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/delete ARTICLE_ID: remove an article; searches skip it at once, and its passages leave
    the index right after (or when a running rebuild finishes)."""
    message = message_of(update)
    args = context.args or []
    # ASCII digits only, and a size SQLite can hold: "²".isdigit() is True, int("²") fails.
    if len(args) != 1 or not re.fullmatch(r"[0-9]{1,12}", args[0]):
        await message.reply_text(messages.DELETE_USAGE)
        return
    article_id = int(args[0])
    state = get_state(context)
    deleted = await asyncio.to_thread(state.lib.delete_article, article_id)
    await record(state, sender_id(update), "delete", str(article_id), deleted)
    template = messages.DELETE_DONE if deleted else messages.DELETE_MISSING
    await message.reply_text(template.format(article_id=article_id))
    if deleted:
        await index_changes(state)


# --- /reindex ---------------------------------------------------------------------------------
FULL_WORDS = frozenset({"full", "كامل", "كاملة"})


async def reindex(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reindex [full]: a new index generation built in the background from the stored vectors
    (`full`: every passage re-embedded); the current one answers until the switch."""
    state = get_state(context)
    message = message_of(update)
    args = [a.lower() for a in (context.args or [])]
    if any(a not in FULL_WORDS for a in args):
        await message.reply_text(messages.REINDEX_USAGE)
        return
    if state.reindexing or state.build_lock.locked():
        await message.reply_text(messages.REINDEX_BUSY)
        return
    # No await between the check and this line: a second /reindex sees the running task.
    state.reindex_task = context.application.create_task(
        _rebuild(state, message, sender_id(update), full=bool(args)), update=update
    )


async def _rebuild(state: BotState, command: Message, user_id: int, *, full: bool) -> None:
    status = await command.reply_text(messages.REINDEX_STARTED)
    progress: list[tuple[int, int]] = []
    started = time.perf_counter()
    try:
        report = await _full_build(state, progress, status, full=full)
    except BuildInProgress:
        await _edit(status, messages.REINDEX_BUSY)
        return
    except RetrievalError:
        log.exception("reindex failed")
        await _edit(status, messages.REINDEX_FAILED)
        await record(state, user_id, "reindex", "failed", False)
        return
    seconds = time.perf_counter() - started
    await _edit(
        status,
        messages.REINDEX_DONE.format(
            version=escape(report.version),
            passages=digits(report.passages),
            seconds=digits(f"{seconds:.1f}"),
        ),
    )
    detail = f"{'full ' if full else ''}{report.version} {seconds:.1f}s"
    await record(state, user_id, "reindex", detail, True)


async def _full_build(
    state: BotState, progress: list[tuple[int, int]], status: Message, *, full: bool
) -> BuildReport:
    """Build a new generation while showing progress, then index what was added meanwhile."""
    async with state.build_lock:

        def on_progress(done: int, total: int) -> None:  # runs in the build thread
            progress[:] = [(done, total)]

        build = asyncio.ensure_future(
            asyncio.to_thread(state.lib.build, full=full, fresh=not full, progress=on_progress)
        )
        await _show_progress(build, progress, status)
        report = build.result()
        if await asyncio.to_thread(state.lib.is_stale):  # articles added meanwhile
            await asyncio.to_thread(state.lib.build)
    return report


async def _show_progress(
    build: asyncio.Future[Any], progress: list[tuple[int, int]], status: Message
) -> None:
    """Edit the status message with the latest progress until the build finishes."""
    shown: tuple[int, int] | None = None
    started = time.perf_counter()
    while not build.done():
        await asyncio.wait([build], timeout=PROGRESS_EVERY)
        if build.done() or not progress or progress[-1] == shown:
            continue
        shown = progress[-1]
        await _edit(status, format_progress(*shown, time.perf_counter() - started))


def format_progress(done: int, total: int, seconds: float) -> str:
    """The /reindex status line: passages embedded of total, rate and time left."""
    percent = done * 100 // total if total else 100
    rate = done / seconds if seconds > 0 else 0.0
    left = (total - done) / rate if rate > 0 else None
    return messages.REINDEX_PROGRESS.format(
        done=digits(done),
        total=digits(total),
        percent=digits(percent),
        rate=digits(f"{rate:.1f}"),
        left=_duration(left) if left is not None else messages.STATS_NONE,
    )


def _duration(seconds: float) -> str:
    """About how long, in Arabic: seconds under two minutes, minutes under two hours."""
    if seconds < 120:
        return counted(round(seconds), messages.SECONDS)
    if seconds < 7200:
        return counted(round(seconds / 60), messages.MINUTES)
    return counted(round(seconds / 3600), messages.HOURS)


async def _edit(status: Message, text: str) -> None:
    try:
        await status.edit_text(text)
    except TelegramError as exc:  # progress is best effort; the build goes on
        log.warning("could not edit the reindex status message: %s", exc)


# --- /stats -----------------------------------------------------------------------------------
async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats: corpus, index, questions, answer times, feedback."""
    state = get_state(context)
    library_stats = await asyncio.to_thread(state.lib.stats)
    usage = await asyncio.to_thread(usage_stats, state.db)
    await message_of(update).reply_text(format_stats(library_stats, usage))


def format_stats(library_stats: LibraryStats, usage: UsageStats) -> str:
    """The /stats message (HTML)."""
    none = messages.STATS_NONE

    def ms(value: float | None) -> str:
        return digits(round(value)) if value is not None else none

    built_at = library_stats.index_built_at
    return messages.STATS.format(
        articles=digits(library_stats.corpus.articles),
        passages=digits(library_stats.corpus.passages),
        indexed=digits(library_stats.index_passages),
        version=escape(library_stats.index_version or none),
        built_at=escape(_when(built_at) if built_at else none),
        stale=messages.STATS_STALE if library_stats.index_stale else "",
        today=digits(usage.questions_today),
        total=digits(usage.questions_total),
        median=ms(usage.median_ms),
        p95=ms(usage.p95_ms),
        helpful=digits(usage.helpful),
        unhelpful=digits(usage.unhelpful),
    )


def _when(iso: str) -> str:
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{format_date(moment)} {digits(moment.strftime('%H:%M'))}"
