"""build_application(settings, library_loader) -> a configured python-telegram-bot Application."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from telegram import BotCommand, BotCommandScopeChat, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot import admin, callbacks, feeds, follows, handlers, messages
from bot.ratelimit import MessageFloodLimiter, RateLimiter, SharedRateLimiter
from bot.records import QuestionStore, create_tables
from bot.searches import SearchQueue
from bot.settings import Settings, SettingsError
from bot.state import STATE_KEY, BotState
from retrieval.errors import RetrievalError
from retrieval.query import Query
from retrieval.types import Hit
from retrieval.workers import NotStarted, SearchProcesses

if TYPE_CHECKING:
    from retrieval.library import Library

log = logging.getLogger(__name__)
ADMIN_COMMANDS = ("add", "delete", "reindex", "stats", "feed")
# Updates are handled concurrently so that one slow search, or an admin's upload, never makes
# other users wait; the heavy work itself runs in threads. High enough that a burst reaches
# the search queue (bot/searches.py), whose turns, wait estimates and refusals apply only to
# what it sees: MAX_WAIT_SECONDS of questions is a few hundred.
CONCURRENT_UPDATES = 4096
# Connections to the Bot API. httpcore scans every pooled connection on each request, so
# python-telegram-bot's default pool of 256 cost a busy bot much of a message's CPU once a
# burst had opened them all (benchmarks/load.py, profiled); 16 carry Telegram's 30 messages
# and as many "typing…" actions a second at round trips up to ~250 ms.
CONNECTIONS = 16
POOL_TIMEOUT = 10.0  # seconds a request may wait for a free connection before it fails


def open_library(settings: Settings) -> Library:
    """Open the library and make it ready to answer (slow: loads the model, may build)."""
    from retrieval.library import Library

    library = Library.open(settings.library)
    for line in library.prepare(show_progress=True).lines():
        log.info("%s", line)
    return library


def build_application(
    settings: Settings, library_loader: Callable[[], Library] | None = None
) -> Application:
    """The bot, ready for run_polling()/run_webhook(); the library is loaded in post_init,
    by `library_loader` (default: `open_library(settings)`)."""
    loader = library_loader or (lambda: open_library(settings))
    if settings.token is None:
        raise SettingsError("TELEGRAM_BOT_TOKEN is not set")
    state = BotState(settings, RateLimiter(settings.rate_limit_per_minute))

    async def post_init(application: Application) -> None:
        await load_state(state, loader)
        await set_commands(application, settings)
        if application.job_queue is not None:
            minutes = settings.library.feed_poll_minutes
            application.job_queue.run_repeating(
                feeds.poll_job, interval=minutes * 60, first=min(60.0, minutes * 60)
            )

    async def post_shutdown(application: Application) -> None:
        if state.searches is not None:
            await state.searches.close()
        if state.query_log is not None:
            await state.query_log.flush()
        if state.processes is not None:
            await asyncio.to_thread(state.processes.close)

    application = (
        ApplicationBuilder()
        .token(settings.token.get_secret_value())
        .base_url(settings.api_base_url)
        .base_file_url(settings.file_base_url)
        .rate_limiter(
            MessageFloodLimiter(
                overall_max_rate=settings.flood_messages_per_second,
                max_retries=settings.flood_retries,
            )
        )
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .concurrent_updates(CONCURRENT_UPDATES)
        .connection_pool_size(CONNECTIONS)
        .pool_timeout(POOL_TIMEOUT)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.bot_data[STATE_KEY] = state
    add_handlers(application, settings.admin_ids)
    return application


async def load_state(state: BotState, library_loader: Callable[[], Library]) -> None:
    """Load the model and index once (slow: off the event loop) and create the bot's tables."""
    library = await asyncio.to_thread(library_loader)
    state.records = await asyncio.to_thread(create_tables, library.engine)
    state.library = library
    settings = state.settings
    if library.engine.dialect.name == "postgresql":  # replicas may share it: so do the limits
        state.limiter = SharedRateLimiter(
            state.records, settings.rate_limit_per_minute, key=settings.hash_user
        )
    search_many = library.search_many
    if settings.search_processes:
        processes = SearchProcesses(settings.library, settings.search_processes)
        state.processes = processes
        search_many = functools.partial(_search_in, processes, library)
        try:  # a model load per process, on all cores at once: seconds
            await asyncio.to_thread(processes.start)
        except RetrievalError as exc:  # searched in this process instead
            log.error("search processes not started: %s", exc)
    if not (state.processes and state.processes.ready):  # questions are searched here
        await asyncio.to_thread(library.warm)
    state.searches = SearchQueue(
        search_many,
        max_batch=settings.search_batch,
        max_wait=settings.max_wait_seconds,
        workers=settings.search_workers,
    )
    state.questions = QuestionStore(state.records)
    log.info("library loaded")


def _search_in(
    processes: SearchProcesses, library: Library, queries: Sequence[Query]
) -> list[list[Hit] | RetrievalError]:
    """A batch searched by the worker processes once they are up, else in this process. It
    counts as a search in flight here, so an index build in this process yields to it."""
    try:
        with library.readers.reading():
            return processes.search_many(queries)
    except NotStarted:
        return library.search_many(queries)


def add_handlers(application: Application, admin_ids: frozenset[int]) -> None:
    """Register handlers; within the group the first match wins, so order matters."""
    admins = filters.User(user_id=admin_ids)
    new = filters.UpdateType.MESSAGE
    private = filters.ChatType.PRIVATE
    add_caption = filters.CaptionRegex(r"^/add(@\w+)?(\s|$)")
    application.add_handlers(
        [
            MessageHandler(filters.UpdateType.EDITED, handlers.on_edited),
            CommandHandler("start", handlers.start, new),
            CommandHandler("help", handlers.help_command, new),
            CommandHandler("ask", handlers.ask_command, new),
            CommandHandler("latest", handlers.latest_command, new),
            CommandHandler("follow", follows.follow, new),
            CommandHandler("following", follows.following, new),
            CommandHandler("unfollow", follows.unfollow, new),
            CommandHandler("add", admin.add, new & admins),
            MessageHandler(new & filters.Document.ALL & add_caption & admins, admin.add_document),
            CommandHandler("delete", admin.delete, new & admins),
            CommandHandler("reindex", admin.reindex, new & admins),
            CommandHandler("stats", admin.stats, new & admins),
            CommandHandler("feed", feeds.feed, new & admins),
            CommandHandler(list(ADMIN_COMMANDS), admin.refuse, new),
            MessageHandler(new & filters.Document.ALL & add_caption, admin.refuse),
            MessageHandler(new & filters.Document.ALL & admins & private, admin.document_hint),
            MessageHandler(new & filters.COMMAND, handlers.on_unknown_command),
            MessageHandler(new & filters.TEXT & private, handlers.on_private_text),
            MessageHandler(new & filters.TEXT & filters.ChatType.GROUPS, handlers.on_group_text),
            MessageHandler(new & filters.Document.ALL, handlers.on_document),
            MessageHandler(new & private, handlers.on_non_text),
            CallbackQueryHandler(callbacks.on_button),
            InlineQueryHandler(callbacks.on_inline_query),
        ]
    )
    application.add_error_handler(handlers.on_error)


async def set_commands(application: Application, settings: Settings) -> None:
    """The command menu: everyone's, plus the admin commands in each admin's own chat."""
    public = [
        BotCommand("start", messages.COMMAND_START),
        BotCommand("help", messages.COMMAND_HELP),
        BotCommand("ask", messages.COMMAND_ASK),
        BotCommand("latest", messages.COMMAND_LATEST),
        BotCommand("follow", messages.COMMAND_FOLLOW),
        BotCommand("following", messages.COMMAND_FOLLOWING),
        BotCommand("unfollow", messages.COMMAND_UNFOLLOW),
    ]
    admin_only = [
        BotCommand("add", messages.COMMAND_ADD),
        BotCommand("delete", messages.COMMAND_DELETE),
        BotCommand("reindex", messages.COMMAND_REINDEX),
        BotCommand("stats", messages.COMMAND_STATS),
        BotCommand("feed", messages.COMMAND_FEED),
    ]
    bot = application.bot
    try:
        await bot.set_my_commands(public)
    except TelegramError as exc:  # the menu is a convenience; the bot works without it
        log.warning("could not set the command menu: %s", exc)
    for admin_id in settings.admin_ids:
        # Fails for admins who never opened a chat with the bot.
        with contextlib.suppress(TelegramError):
            await bot.set_my_commands(public + admin_only, scope=BotCommandScopeChat(admin_id))
