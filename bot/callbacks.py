"""Inline-keyboard presses (more, full text, feedback, examples) and inline-mode queries."""

from __future__ import annotations

import asyncio
import logging

from telegram import (
    CallbackQuery,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import answers, follows, messages
from bot.format import format_article, format_inline, shorten
from bot.handlers import ask
from bot.keyboards import Example, FullArticle, Page, Unfollow, Vote, parse_callback
from bot.records import record_feedback
from bot.state import get_state
from retrieval.types import Hit

log = logging.getLogger(__name__)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Dispatch a button press; malformed or forged data gets a polite toast."""
    query = update.callback_query
    if query is None:
        return
    action = parse_callback(query.data)
    if action is None:
        await query.answer(messages.TOAST_INVALID)
    elif isinstance(action, Page):
        await _page(query, context, action)
    elif isinstance(action, FullArticle):
        await _full_article(query, context, action)
    elif isinstance(action, Vote):
        await _vote(query, context, action)
    elif isinstance(action, Unfollow):
        await follows.on_unfollow(query, context, action)
    elif isinstance(action, Example):
        await query.answer()
        chat = query.message.chat if query.message else None
        if chat is not None:
            question = messages.EXAMPLE_QUESTIONS[action.index]
            await ask(context, chat, query.from_user.id, question)


async def _page(query: CallbackQuery, context: ContextTypes.DEFAULT_TYPE, action: Page) -> None:
    """Show another page of results by editing the answer message."""
    state = get_state(context)
    reply = await answers.page(
        state, query.from_user.id, action.question_id, action.offset, action.quantized
    )
    if isinstance(reply, answers.Refused):
        await query.answer(reply.toast)
        return
    try:
        await query.edit_message_text(reply.html, reply_markup=reply.markup)
    except BadRequest as exc:  # e.g. the message is too old to edit, or unchanged
        log.info("could not edit the answer message: %s", exc.message)
        await query.answer(messages.TOAST_STALE)
        return
    await query.answer()


async def _full_article(
    query: CallbackQuery, context: ContextTypes.DEFAULT_TYPE, action: FullArticle
) -> None:
    """Send the whole article, in as many messages as it needs."""
    state = get_state(context)
    # A whole article is many messages: counted like a question, so repeated taps cannot
    # spend the bot's Telegram flood budget for everyone.
    if not (await state.limiter.acquire(query.from_user.id)).allowed:
        await query.answer(messages.TOAST_RATE_LIMITED)
        return
    article = await asyncio.to_thread(state.lib.article, action.article_id)
    if article is None:
        await query.answer(messages.TOAST_ARTICLE_GONE)
        return
    await query.answer()
    chat_id = query.message.chat.id if query.message else query.from_user.id
    for part in await asyncio.to_thread(format_article, article):
        await context.bot.send_message(chat_id, part)


async def _vote(query: CallbackQuery, context: ContextTypes.DEFAULT_TYPE, action: Vote) -> None:
    """Store 👍 / 👎 and thank the user with a toast."""
    state = get_state(context)
    if await asyncio.to_thread(state.questions.get, action.question_id) is None:
        await query.answer(messages.TOAST_STALE)
        return
    user_hash = state.settings.hash_user(query.from_user.id)
    await asyncio.to_thread(
        record_feedback, state.db, action.question_id, user_hash, action.helpful
    )
    thanks = messages.TOAST_THANKS_HELPFUL if action.helpful else messages.TOAST_THANKS_UNHELPFUL
    await query.answer(thanks)


async def on_inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`@bot سؤال` in any chat: the relevant passages as results; choosing one posts it."""
    query = update.inline_query
    if query is None:
        return
    question, hits = await answers.inline(get_state(context), query.from_user.id, query.query)
    results = [_inline_result(question, hit) for hit in hits]
    # A refused query (empty, rate limited, failed) is cached briefly so a retry gets through.
    await query.answer(results, cache_time=60 if question else 5)


def _inline_result(question: str, hit: Hit) -> InlineQueryResultArticle:
    """One inline result: title and answer sentence in the list, the cited passage when chosen."""
    return InlineQueryResultArticle(
        id=str(hit.passage_id),
        title=shorten(hit.title, 80) or messages.UNTITLED,
        description=shorten(hit.answer_sentence or hit.text, 150),
        input_message_content=InputTextMessageContent(
            format_inline(question, hit),
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        ),
    )
