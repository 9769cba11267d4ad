"""User-facing handlers: /start, /help, questions in private chats and groups, bad input, errors.

Messages are sent with the application's Defaults: HTML parse mode, no link previews.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging

from telegram import Chat, InlineKeyboardMarkup, Message, MessageEntity, Update
from telegram.constants import ChatAction, ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import answers, messages
from bot.answers import Send
from bot.format import format_welcome
from bot.keyboards import examples_keyboard
from bot.records import is_outage
from bot.state import get_state, message_of, sender_id

log = logging.getLogger(__name__)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Welcome: what the bot knows, and example questions as buttons."""
    stats = await asyncio.to_thread(get_state(context).lib.corpus_stats)
    text = format_welcome(stats)
    await message_of(update).reply_text(text, reply_markup=examples_keyboard())


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """How to ask, in private chats, groups and inline."""
    stats = await asyncio.to_thread(get_state(context).lib.corpus_stats)
    text = format_welcome(stats, intro=messages.HELP)
    await message_of(update).reply_text(text, reply_markup=examples_keyboard())


async def on_private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In a private chat every text message is a question."""
    message = message_of(update)
    await ask(context, message.chat, sender_id(update), message.text or "", reply_to=message)


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask سؤال — the way to ask in groups (works in private chats too)."""
    message = message_of(update)
    question = " ".join(context.args or [])
    if not question.strip():
        example = messages.EXAMPLE_QUESTIONS[0]
        await message.reply_text(messages.ASK_USAGE.format(example=example))
        return
    await ask(context, message.chat, sender_id(update), question, reply_to=message)


async def latest_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/latest [موضوع] — the newest articles, or the newest about a topic."""
    message = message_of(update)
    send = _sender(context, message.chat, message)
    typing = functools.partial(_typing, context, message.chat.id)
    topic = " ".join(context.args or [])
    await answers.latest(get_state(context), sender_id(update), topic, send, typing)


async def on_group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups answer only messages that mention the bot or reply to it."""
    message = message_of(update)
    question = addressed_question(message, context.bot.username, context.bot.id)
    if question is not None:
        await ask(context, message.chat, sender_id(update), question, reply_to=message)


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


async def ask(
    context: ContextTypes.DEFAULT_TYPE,
    chat: Chat,
    user_id: int,
    text: str,
    *,
    reply_to: Message | None = None,
) -> None:
    """Answer `user_id`'s question in `chat` (as a reply to `reply_to` when given), "typing…"
    meanwhile; `user_id` keys the rate limit and the stored hash (see `state.sender_id`)."""
    send = _sender(context, chat, reply_to)
    typing = functools.partial(_typing, context, chat.id)
    await answers.answer(get_state(context), user_id, chat.type, text, send, typing)


def _sender(context: ContextTypes.DEFAULT_TYPE, chat: Chat, reply_to: Message | None) -> Send:
    async def send(html: str, markup: InlineKeyboardMarkup | None) -> object:
        if reply_to is not None:
            return await reply_to.reply_text(html, reply_markup=markup)
        return await context.bot.send_message(chat.id, html, reply_markup=markup)

    return send


async def _typing(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
    """Show "typing…" while searching; a failure here must not lose the answer."""
    with contextlib.suppress(TelegramError):
        await context.bot.send_chat_action(chat_id, ChatAction.TYPING)


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
    outage = is_outage(context.error)
    if outage:  # expected while the database restarts: no traceback, a "try again" reply
        log.warning("database unavailable while handling an update (%s): %s", kind, context.error)
    else:
        log.error("error while handling an update (%s)", kind, exc_info=context.error)
    if not isinstance(update, Update):
        return
    text = messages.STORE_UNAVAILABLE if outage else messages.ERROR_APOLOGY
    with contextlib.suppress(TelegramError):
        if update.callback_query is not None:
            await update.callback_query.answer(
                messages.TOAST_STORE_UNAVAILABLE if outage else messages.ERROR_APOLOGY
            )
        elif update.effective_chat is not None and update.message is not None:
            await context.bot.send_message(update.effective_chat.id, text)
