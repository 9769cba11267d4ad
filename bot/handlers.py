"""User-facing handlers: /start, /help, questions in private chats and groups, bad input, errors.

Messages are sent with the application's Defaults: HTML parse mode, no link previews.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from telegram import Chat, InlineKeyboardMarkup, Message, MessageEntity, Update, User
from telegram.constants import ChatAction, ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import messages
from bot.format import (
    arabic_digits,
    format_answer,
    format_no_answer,
    format_welcome,
    prepare_question,
)
from bot.keyboards import answer_keyboard, articles_keyboard, examples_keyboard, new_question_id
from bot.records import QueryRecord, log_query
from bot.settings import Settings
from bot.state import BotState, get_state, message_of
from corpus.store import CorpusStats, corpus_stats
from retrieval.errors import EmptyQuery, IndexNotReady, RetrievalError
from retrieval.types import Hit

log = logging.getLogger(__name__)
CLOSEST_SHOWN = 3


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Welcome: what the bot knows, and example questions as buttons."""
    stats = await asyncio.to_thread(_corpus_stats, get_state(context))
    text = format_welcome(stats)
    await message_of(update).reply_text(text, reply_markup=examples_keyboard())


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """How to ask, in private chats, groups and inline."""
    stats = await asyncio.to_thread(_corpus_stats, get_state(context))
    text = format_welcome(stats, intro=messages.HELP)
    await message_of(update).reply_text(text, reply_markup=examples_keyboard())


def _corpus_stats(state: BotState) -> CorpusStats:
    with state.lib.session_factory() as session:
        return corpus_stats(session)


async def on_private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In a private chat every text message is a question."""
    message = message_of(update)
    await ask(context, message.chat, update.effective_user, message.text or "", reply_to=message)


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask سؤال — the way to ask in groups (works in private chats too)."""
    message = message_of(update)
    question = " ".join(context.args or [])
    if not question.strip():
        example = messages.EXAMPLE_QUESTIONS[0]
        await message.reply_text(messages.ASK_USAGE.format(example=example))
        return
    await ask(context, message.chat, update.effective_user, question, reply_to=message)


async def on_group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups answer only messages that mention the bot or reply to it."""
    message = message_of(update)
    question = addressed_question(message, context.bot.username, context.bot.id)
    if question is not None:
        await ask(context, message.chat, update.effective_user, question, reply_to=message)


def addressed_question(message: Message, username: str, bot_id: int) -> str | None:
    """The question in a group message meant for the bot, without the @mention; else None."""
    text = message.text or ""
    mention = f"@{username}".lower()
    mentions = [
        entity
        for entity, value in message.parse_entities([MessageEntity.MENTION]).items()
        if value.lower() == mention
    ]
    replied = message.reply_to_message
    if not mentions and not (replied and replied.from_user and replied.from_user.id == bot_id):
        return None
    # Entity offsets count UTF-16 code units; cut on the encoded text.
    encoded = text.encode("utf-16-le")
    for entity in sorted(mentions, key=lambda e: e.offset, reverse=True):
        start, end = 2 * entity.offset, 2 * (entity.offset + entity.length)
        encoded = encoded[:start] + b" \x00" + encoded[end:]
    return " ".join(encoded.decode("utf-16-le").split())


Send = Callable[[str, InlineKeyboardMarkup | None], Awaitable[object]]


def _sender(context: ContextTypes.DEFAULT_TYPE, chat: Chat, reply_to: Message | None) -> Send:
    async def send(html: str, markup: InlineKeyboardMarkup | None = None) -> object:
        if reply_to is not None:
            return await reply_to.reply_text(html, reply_markup=markup)
        return await context.bot.send_message(chat.id, html, reply_markup=markup)

    return send


async def ask(
    context: ContextTypes.DEFAULT_TYPE,
    chat: Chat,
    user: User | None,
    text: str,
    *,
    reply_to: Message | None = None,
) -> None:
    """Answer a question: rate limit, search off the event loop, reply, log."""
    started = time.perf_counter()
    state = get_state(context)
    send = _sender(context, chat, reply_to)
    user_id = user.id if user else chat.id
    decision = state.limiter.check(user_id)
    if not decision.allowed:
        if decision.notify:
            seconds = arabic_digits(decision.retry_seconds)
            await send(messages.RATE_LIMITED.format(seconds=seconds), None)
        return
    question, truncated = prepare_question(text, state.settings.max_question_chars)
    hits = await _search(context, state, chat.id, question, send)
    if hits is None:
        return
    question_id = new_question_id()
    state.questions.put(question_id, question)
    truncated_at = state.settings.max_question_chars if truncated else None
    answer = compose_answer(state.settings, question_id, hits, offset=0, truncated_at=truncated_at)
    await send(answer.html, answer.markup)
    record = QueryRecord(
        question_id=question_id,
        user_hash=state.settings.hash_user(user_id),
        chat_type=chat.type,
        question=question,
        truncated=truncated,
        answered=answer.answered,
        top_score=max((h.dense_score for h in hits if h.dense_score is not None), default=None),
        latency_ms=round((time.perf_counter() - started) * 1000),
    )
    await asyncio.to_thread(log_query, state.lib.session_factory, record)


async def _search(
    context: ContextTypes.DEFAULT_TYPE, state: BotState, chat_id: int, question: str, send: Send
) -> list[Hit] | None:
    """One page plus one hit (to know whether "more" exists), or None after telling why not."""
    example = messages.EXAMPLE_QUESTIONS[0]
    if not question:
        await send(messages.EMPTY_QUESTION.format(example=example), None)
        return None
    try:
        _, hits = await asyncio.gather(
            _typing(context, chat_id),
            asyncio.to_thread(
                state.lib.search,
                question,
                2 * state.settings.top_k,  # a page, and a look at whether another follows
                mode=state.settings.search_mode,
            ),
        )
    except EmptyQuery:
        await send(messages.EMPTY_QUESTION.format(example=example), None)
        return None
    except IndexNotReady:
        await send(messages.NOT_READY, None)
        return None
    except RetrievalError:
        log.warning("search failed", exc_info=True)
        await send(messages.SEARCH_FAILED, None)
        return None
    return list(hits)


async def _typing(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
    """Show "typing…" while searching; a failure here must not lose the answer."""
    with contextlib.suppress(TelegramError):
        await context.bot.send_chat_action(chat_id, ChatAction.TYPING)


@dataclass(frozen=True)
class Answer:
    html: str
    markup: InlineKeyboardMarkup | None
    answered: int


def compose_answer(
    settings: Settings,
    question_id: str,
    hits: Sequence[Hit],
    *,
    offset: int,
    truncated_at: int | None = None,
) -> Answer:
    """The reply to a question (or a later page of it): relevant hits, or an honest "no"."""
    shown, has_more = select_relevant(hits, settings.top_k, settings.min_relevance, offset)
    if shown:
        html = format_answer(shown, truncated_at=truncated_at)
        markup = answer_keyboard(
            question_id,
            [h.article_id for h in shown],
            offset=offset,
            page_size=settings.top_k,
            has_more=has_more,
        )
        return Answer(html, markup, len(shown))
    closest = [replace(h, rank=i + 1) for i, h in enumerate(hits[:CLOSEST_SHOWN])]
    html = format_no_answer(closest, truncated_at=truncated_at)
    return Answer(html, articles_keyboard([h.article_id for h in closest]), 0)


def select_relevant(
    hits: Sequence[Hit], k: int, min_relevance: float, offset: int = 0
) -> tuple[list[Hit], bool]:
    """The hits worth showing on one page (numbered from offset + 1) and whether more follow.

    `hits` are ranks offset+1, offset+2, ...: the page is drawn from the first k only, so the
    next page (offset + k) never repeats a hit; more follow when a later hit is relevant.
    A hit is relevant when its cosine similarity to the question reaches `min_relevance`;
    hits without a dense score (lexical-only retrieval) are shown as ranked.
    """

    def relevant(hit: Hit) -> bool:
        return hit.dense_score is None or hit.dense_score >= min_relevance

    page = [h for h in hits[:k] if relevant(h)]
    numbered = [replace(h, rank=offset + i + 1) for i, h in enumerate(page)]
    return numbered, any(relevant(h) for h in hits[k:])


# --- bad input --------------------------------------------------------------------------------
async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Edited messages are not re-answered; say so in private chats."""
    message = message_of(update)
    if message is not None and message.chat.type == ChatType.PRIVATE:
        await message.reply_text(messages.EDITED_MESSAGE)


async def on_non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice, video, locations...: only text is understood."""
    await message_of(update).reply_text(messages.TEXT_ONLY)


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A file from a non-admin: only admins add to the library."""
    message = message_of(update)
    if message.chat.type == ChatType.PRIVATE:
        await message.reply_text(messages.FILES_ADMINS_ONLY)


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An unknown /command: list the known ones (in groups only when addressed to this bot)."""
    message = message_of(update)
    command = (message.text or "").split(maxsplit=1)[0]
    addressed = command.lower().endswith(f"@{context.bot.username}".lower())
    if message.chat.type == ChatType.PRIVATE or addressed:
        await message.reply_text(messages.UNKNOWN_COMMAND)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The one error handler: log with the traceback, apologise briefly, never show details."""
    kind = type(update).__name__ if update is not None else "no update"
    log.error("error while handling an update (%s)", kind, exc_info=context.error)
    if not isinstance(update, Update):
        return
    with contextlib.suppress(TelegramError):
        if update.callback_query is not None:
            await update.callback_query.answer(messages.ERROR_APOLOGY)
        elif update.effective_chat is not None and update.message is not None:
            await context.bot.send_message(update.effective_chat.id, messages.ERROR_APOLOGY)
