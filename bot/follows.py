"""Following topics: /follow, /following, /unfollow and the 🔕 button; and the alerts sent
when a new article (bot/feeds.py) is about a followed topic: its best passage judged by the
answer gate and the whole article's closeness to the topic (`Library.match_topics`, calibrated
by benchmarks/follow_alerts.py) against FOLLOW_MIN_RELEVANCE."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from telegram import Bot, CallbackQuery, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot import followstore, messages
from bot.followstore import Followed
from bot.format import escape, format_hit
from bot.keyboards import Unfollow, alert_keyboard
from bot.state import BotState, get_state, message_of
from corpus.columns import utc_now
from retrieval.types import Hit

log = logging.getLogger(__name__)
MAX_FOLLOWS = 10  # topics per user: each costs one encoder call per poll that adds articles
TOPIC_CHARS = 80
ALERT_CHARS = 1500  # an alert is one hit: about half a phone screen


async def follow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/follow موضوع — in a private chat, so that alerts reach the user alone."""
    message, state = message_of(update), get_state(context)
    if message.chat.type != ChatType.PRIVATE:
        await message.reply_text(messages.FOLLOW_PRIVATE_ONLY)
        return
    topic = " ".join(" ".join(context.args or []).split())
    if not topic:
        await message.reply_text(messages.FOLLOW_USAGE)
        return
    if len(topic) > TOPIC_CHARS:
        await message.reply_text(messages.FOLLOW_TOO_LONG.format(limit=TOPIC_CHARS))
        return
    chat_id = message.chat.id
    held = await asyncio.to_thread(followstore.following, state.db, chat_id)
    if len(held) >= MAX_FOLLOWS:
        text = messages.FOLLOW_TOO_MANY.format(limit=MAX_FOLLOWS, command=messages.UNFOLLOW)
        await message.reply_text(text)
        return
    added = await asyncio.to_thread(followstore.follow, state.db, chat_id, topic)
    text = messages.FOLLOW_DONE if added else messages.FOLLOW_ALREADY
    limit = state.settings.follow_max_per_day
    await message.reply_text(text.format(topic=escape(topic), limit=limit))


async def following(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/following: the user's topics, numbered for /unfollow."""
    message, state = message_of(update), get_state(context)
    held = await asyncio.to_thread(followstore.following, state.db, message.chat.id)
    if not held:
        await message.reply_text(messages.FOLLOWING_NONE)
        return
    lines = [messages.FOLLOWING_HEADER]
    lines += [messages.FOLLOWING_ITEM.format(number=f.number, topic=escape(f.topic)) for f in held]
    lines.append(messages.FOLLOWING_FOOTER)
    await message.reply_text("\n".join(lines))


async def unfollow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/unfollow N (N as /following numbers them)."""
    message, state = message_of(update), get_state(context)
    args = context.args or []
    if len(args) != 1 or not (args[0].isascii() and args[0].isdigit()) or len(args[0]) > 4:
        await message.reply_text(messages.UNFOLLOW_USAGE)
        return
    held = await asyncio.to_thread(followstore.following, state.db, message.chat.id)
    chosen = [f for f in held if f.number == int(args[0])]
    topic = None
    if chosen:
        topic = await asyncio.to_thread(
            followstore.unfollow, state.db, message.chat.id, chosen[0].id
        )
    if topic is None:
        await message.reply_text(messages.UNFOLLOW_MISSING)
        return
    await message.reply_text(messages.UNFOLLOW_DONE.format(topic=escape(topic)))


async def on_unfollow(
    query: CallbackQuery, context: ContextTypes.DEFAULT_TYPE, action: Unfollow
) -> None:
    """🔕 under an alert: stops that follow, if it is the presser's own."""
    state = get_state(context)
    chat_id = query.from_user.id  # alerts go to private chats: the chat is the user
    topic = await asyncio.to_thread(followstore.unfollow, state.db, chat_id, action.follow_id)
    if topic is None:
        await query.answer(messages.TOAST_STALE)
        return
    await query.answer(messages.TOAST_UNFOLLOWED)
    await context.bot.send_message(chat_id, messages.UNFOLLOW_DONE.format(topic=escape(topic)))


# --- alerts --------------------------------------------------------------------------------
async def send_alerts(state: BotState, bot: Bot, article_ids: Sequence[int]) -> int:
    """Tell each follower about the new articles on their topics (each article once per
    chat, at most FOLLOW_MAX_PER_DAY a day); returns how many were sent."""
    follows = await asyncio.to_thread(followstore.all_follows, state.db)
    if not follows or not article_ids:
        return 0
    topics = sorted({f.topic for f in follows})
    matched = await asyncio.to_thread(state.lib.match_topics, topics, list(article_ids))
    threshold = state.settings.follow_min_relevance
    sent = 0
    for followed in follows:
        for match in matched.get(followed.topic, []):
            if match.relevance < threshold:
                break  # most relevant first
            sent += await _alert(state, bot, followed, match.hit)
    return sent


async def _alert(state: BotState, bot: Bot, followed: Followed, hit: Hit) -> int:
    claimed = await asyncio.to_thread(
        followstore.claim_alert,
        state.db,
        followed,
        hit.article_id,
        utc_now(),
        state.settings.follow_max_per_day,
    )
    if not claimed:
        return 0
    header = messages.ALERT_HEADER.format(topic=escape(followed.topic))
    body = format_hit(hit, ALERT_CHARS, numbered=False)
    keyboard = alert_keyboard(hit.article_id, hit.title, followed.id, followed.topic)
    try:
        await bot.send_message(followed.chat_id, f"{header}\n{body}", reply_markup=keyboard)
    except (Forbidden, BadRequest) as exc:
        # Blocked the bot, deleted the account, or the chat is gone: stop writing to it.
        removed = await asyncio.to_thread(followstore.forget_chat, state.db, followed.chat_id)
        log.info("alert not delivered (%s); %d follows of that chat dropped", exc, removed)
        return 0
    except TelegramError as exc:
        log.warning("alert not delivered: %s", exc)
        return 0
    return 1
