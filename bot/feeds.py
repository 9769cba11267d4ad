"""Live feeds in the bot: the admin's /feed command and the poll that runs every
FEED_POLL_MINUTES on python-telegram-bot's JobQueue. New stories are indexed under the bot's
build lock, then sent to the users who follow their topic (bot/follows.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from telegram import Bot, Update
from telegram.ext import ContextTypes

from bot import follows, messages
from bot.admin import index_changes, record
from bot.format import counted, digits, escape, isolate, shorten
from bot.records import is_outage
from bot.state import BotState, get_state, message_of, sender_id
from corpus.columns import utc_now
from retrieval.feeds import (
    FeedPollReport,
    FeedProblem,
    FeedView,
    add_feed,
    list_feeds,
    poll_feeds,
    remove_feed,
)

log = logging.getLogger(__name__)
FAILED_SHOWN = 5  # failed items listed after a poll


async def feed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/feed add URL [name] | list | remove ID | poll."""
    args = context.args or []
    action = args[0].lower() if args else ""
    handler = _ACTIONS.get(action)
    if handler is None:
        await message_of(update).reply_text(messages.FEED_USAGE)
        return
    await handler(update, context, args[1:])


async def _add(update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]) -> None:
    message, state = message_of(update), get_state(context)
    if not args:
        await message.reply_text(messages.FEED_USAGE)
        return
    url, name = args[0], " ".join(args[1:]) or None
    # the admin's own poll below comes first: a periodic poll taking the new feed in between
    # would leave that poll nothing new to report (one round later, any poll may take it)
    hold = timedelta(minutes=state.settings.library.feed_poll_minutes)
    try:
        view = await asyncio.to_thread(add_feed, state.lib, url, name, hold=hold)
    except FeedProblem as exc:
        await message.reply_text(messages.FEED_ADD_FAILED.format(reason=escape(str(exc))))
        await record(state, sender_id(update), "feed add", f"{url}: {exc}", False)
        return
    await message.reply_text(
        messages.FEED_ADDED.format(feed_id=view.id, name=escape(view.name), url=_url(view.url))
    )
    await record(state, sender_id(update), "feed add", f"{view.id} {view.url}", True)
    reports = await poll_and_alert(state, context.bot, [view.id])
    await message.reply_text(format_poll_reports(reports))


async def _list(update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]) -> None:
    views = await asyncio.to_thread(list_feeds, get_state(context).lib)
    await message_of(update).reply_text(format_feed_list(views, utc_now()))


async def _remove(update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]) -> None:
    message, state = message_of(update), get_state(context)
    if len(args) != 1 or not (args[0].isascii() and args[0].isdigit()) or len(args[0]) > 9:
        await message.reply_text(messages.FEED_REMOVE_USAGE)
        return
    feed_id = int(args[0])
    removed = await asyncio.to_thread(remove_feed, state.lib, feed_id)
    text = messages.FEED_REMOVED if removed else messages.FEED_MISSING
    await message.reply_text(text.format(feed_id=feed_id))
    await record(state, sender_id(update), "feed remove", str(feed_id), removed)


async def _poll(update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]) -> None:
    state = get_state(context)
    ids = [view.id for view in await asyncio.to_thread(list_feeds, state.lib)]
    if not ids:
        await message_of(update).reply_text(messages.FEED_NONE)
        return
    await message_of(update).reply_text(messages.FEED_POLLING)
    reports = await poll_and_alert(state, context.bot, ids)
    await message_of(update).reply_text(format_poll_reports(reports))


_ACTIONS = {"add": _add, "list": _list, "remove": _remove, "poll": _poll}


async def poll_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every FEED_POLL_MINUTES: poll the due feeds (a poll still running is not doubled)."""
    state = get_state(context)
    if state.library is None or state.feed_poll.locked():
        return
    try:
        await poll_and_alert(state, context.bot, None)
    except Exception as exc:
        if not is_outage(exc):
            raise
        log.warning("feed poll skipped: database unavailable")


async def poll_and_alert(
    state: BotState, bot: Bot, feed_ids: Sequence[int] | None
) -> list[FeedPollReport]:
    """Poll (`feed_ids`, or the due feeds), index what they added, alert its followers."""
    async with state.feed_poll:
        settings = state.settings.library
        reports = await asyncio.to_thread(poll_feeds, state.lib, settings, feed_ids)
        for report in reports:
            if report.error:
                log.info("feed %s: %s", report.feed_id, report.error)
        # a new feed's first stories are its backlog: indexed, but not news to alert about
        news = [article for report in reports if not report.backlog for article in report.added]
        state.unalerted.extend(news)
        changed = any(report.added or report.updated for report in reports)
        if (changed or state.unalerted) and await index_changes(state) and state.unalerted:
            news, state.unalerted = state.unalerted, []
            await follows.send_alerts(state, bot, news)
        return reports


# --- what the admin reads ----------------------------------------------------------------------
def _url(url: str) -> str:
    return escape(isolate(shorten(url, 80)))


def format_feed_list(views: Sequence[FeedView], now: datetime) -> str:
    """/feed list: each feed with its last poll, what it brought and its last error."""
    if not views:
        return messages.FEED_NONE
    blocks = [messages.FEED_LIST_HEADER]
    for view in views:
        lines = [
            messages.FEED_LIST_ITEM.format(
                feed_id=digits(view.id), name=escape(view.name), url=_url(view.url)
            ),
            messages.FEED_LIST_STATE.format(
                polled=_ago(view.polled_at, now),
                items=digits(view.items_seen),
                articles=digits(view.articles_added),
            ),
        ]
        if view.last_error:
            lines.append(
                messages.FEED_LIST_ERROR.format(
                    times=digits(view.failures),
                    error=escape(isolate(shorten(view.last_error, 160))),
                    retry=_in(view.next_poll_at, now),
                )
            )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def format_poll_reports(reports: Sequence[FeedPollReport]) -> str:
    """After /feed add or /feed poll: one line per feed, and the items that failed."""
    lines = []
    for report in reports:
        name = escape(report.name) or digits(report.feed_id)
        if report.missing:
            lines.append(messages.FEED_MISSING.format(feed_id=digits(report.feed_id)))
        elif report.busy:
            lines.append(messages.FEED_POLL_BUSY.format(name=name))
        elif report.error:
            error = escape(isolate(shorten(report.error, 160)))
            lines.append(messages.FEED_POLL_ERROR.format(name=name, error=error))
        elif report.not_modified:
            lines.append(messages.FEED_POLL_UNCHANGED.format(name=name))
        else:
            lines.append(
                messages.FEED_POLL_DONE.format(
                    name=name,
                    entries=digits(report.entries),
                    new=digits(report.new),
                    added=digits(len(report.added)),
                )
            )
            if report.summaries:
                lines.append(messages.FEED_POLL_SUMMARIES.format(count=digits(report.summaries)))
            for url, why in report.failed[:FAILED_SHOWN]:
                lines.append(
                    messages.FEED_POLL_FAILED.format(
                        url=_url(url), error=escape(isolate(shorten(why, 100)))
                    )
                )
        if report.warning:
            lines.append(
                messages.FEED_POLL_WARNING.format(warning=escape(shorten(report.warning, 160)))
            )
    return "\n".join(lines) or messages.FEED_NONE


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return messages.FEED_NEVER
    forms = (messages.MINUTES_AGO, messages.HOURS_AGO, messages.DAYS_AGO)
    return _span((now - moment).total_seconds(), *forms)


def _in(moment: datetime | None, now: datetime) -> str:
    if moment is None or moment <= now:
        return messages.FEED_NEXT_ROUND
    forms = (messages.MINUTES_IN, messages.HOURS_IN, messages.DAYS_IN)
    return _span((moment - now).total_seconds(), *forms)


Forms = tuple[str, str, str, str]


def _span(seconds: float, minutes_forms: Forms, hours_forms: Forms, days_forms: Forms) -> str:
    """A time span in the largest whole unit up to days (minutes < 1 h ≤ hours < 48 h ≤ days)."""
    minutes = max(int(seconds // 60), 0)
    if minutes < 60:
        return counted(max(minutes, 1), minutes_forms)
    if minutes < 48 * 60:
        return counted(minutes // 60, hours_forms)
    return counted(minutes // (24 * 60), days_forms)
