"""The bot's long-lived state, kept in `application.bot_data`, and typed access to updates."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiolimiter import AsyncLimiter
from sqlalchemy.orm import Session, sessionmaker
from telegram import Message, Update
from telegram.ext import ContextTypes

from bot.ratelimit import Limiter
from bot.records import QueryLogWriter, QuestionStore
from bot.searches import SearchQueue
from bot.settings import Settings

if TYPE_CHECKING:  # the library pulls in torch; handlers only need it at run time
    from retrieval.library import Library
    from retrieval.workers import SearchProcesses

STATE_KEY = "sanad"

# "typing…" (bot/answers.py) only while the bot can afford it: it is one more Bot API request
# per question, and when a burst makes every question wait past TYPING_AFTER_SECONDS each
# would pay it, the very moment the bot's process has no time to spare (at 40 questions/s
# offered, chat actions were 26% of its py-spy samples, answers 23%: benchmarks/load.py).
# Past this many a second they are skipped, never queued: the answer, or the delay notice,
# follows anyway.
CHAT_ACTIONS_PER_SECOND = 5


@dataclass
class BotState:
    """Settings, the library and the bot's tables (both set in post_init), the per-user
    limiter and the question store."""

    settings: Settings
    limiter: Limiter
    questions: QuestionStore = field(default_factory=QuestionStore)
    library: Library | None = None
    records: sessionmaker[Session] | None = None
    query_log: QueryLogWriter | None = None  # over `records`: made by `recorder` on first use
    searches: SearchQueue | None = None  # set in post_init, over the library
    processes: SearchProcesses | None = None  # where the queue's batches are searched
    reindex_task: asyncio.Task[None] | None = None
    # room for "typing…" actions across chats: CHAT_ACTIONS_PER_SECOND
    chat_actions: AsyncLimiter = field(
        default_factory=lambda: AsyncLimiter(CHAT_ACTIONS_PER_SECOND, 1)
    )
    # Held by every build the bot starts: /add builds wait for each other, /reindex refuses.
    build_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Held by a feed poll (the scheduled one or /feed add|poll): one at a time per process
    feed_poll: asyncio.Lock = field(default_factory=asyncio.Lock)
    # articles a feed poll added while a /reindex held the index: alerted after the next build
    unalerted: list[int] = field(default_factory=list)

    @property
    def lib(self) -> Library:
        if self.library is None:
            raise RuntimeError("the library is loaded in post_init, before any update")
        return self.library

    @property
    def queue(self) -> SearchQueue:
        if self.searches is None:
            raise RuntimeError("the search queue is made in post_init, before any update")
        return self.searches

    @property
    def db(self) -> sessionmaker[Session]:
        """Sessions on the bot's own tables (questions, feedback, admin actions)."""
        if self.records is None:
            raise RuntimeError("the bot's tables are created in post_init, before any update")
        return self.records

    @property
    def recorder(self) -> QueryLogWriter:
        """Where answered questions are recorded (made on first use, over `db`)."""
        if self.query_log is None:
            self.query_log = QueryLogWriter(self.db)
        return self.query_log

    @property
    def reindexing(self) -> bool:
        return self.reindex_task is not None and not self.reindex_task.done()


def get_state(context: ContextTypes.DEFAULT_TYPE) -> BotState:
    state = context.bot_data[STATE_KEY]
    assert isinstance(state, BotState)
    return state


def message_of(update: Update) -> Message:
    """The message an update carries (handlers are registered only for updates with one)."""
    message = update.effective_message
    if message is None:
        raise TypeError(f"update {update.update_id} carries no message")
    return message


# Accounts Telegram puts in `from` for messages whose real sender is a chat: anonymous group
# admins (@GroupAnonymousBot), posts sent as a channel (@Channel_Bot), and channel posts
# forwarded into a linked discussion group (777000). Every such sender shares one user id, so
# limits and stored hashes are keyed on `sender_chat` instead.
SERVICE_ACCOUNTS = frozenset({1087968824, 136817688, 777000})


def sender_id(update: Update) -> int:
    """Who sent the update: the user; the sending chat for anonymous admins and channels; the
    chat when there is no user at all."""
    user = update.effective_user
    message = update.effective_message
    if user is not None and (user.id not in SERVICE_ACCOUNTS or message is None):
        return user.id
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id
    if user is not None:
        return user.id
    return message_of(update).chat.id
