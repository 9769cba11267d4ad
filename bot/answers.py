"""The one path from a question to an answer: cleaning, rate limit, search off the event loop,
error mapping, the relevance policy and paging — plus the pure functions that compose a page.

Message handlers, the «المزيد» button and inline mode are adapters over `search`: each decides
only how to deliver what comes back (a message, an edited message, a toast, inline results).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from aiolimiter import AsyncLimiter
from telegram import InlineKeyboardMarkup

from bot import messages
from bot.format import counted, cut_at_word, format_answer, format_no_answer
from bot.keyboards import answer_keyboard, articles_keyboard, new_question_id, numbers_keyboard
from bot.recent import LATEST_SHOWN, Dating, answer_header, format_latest, format_no_latest
from bot.records import QueryRecord
from bot.searches import Overloaded, Ticket
from bot.settings import Settings
from bot.state import BotState
from retrieval.errors import EmptyQuery, IndexNotReady, RetrievalError, StoreUnavailable
from retrieval.query import Query
from retrieval.recency import Recency, about, detect
from retrieval.types import Hit

log = logging.getLogger(__name__)
CLOSEST_SHOWN = 3  # article titles offered when nothing is relevant enough
# ... and only those sharing the question's topic: at least this share of its terms (weighted by
# length, `Evidence.coverage`) in the title or passage. Measured by benchmarks/reading.py on the
# questions the bundled corpus cannot answer.
CLOSEST_MIN_COVERAGE = 0.5
INLINE_RESULTS = 5

# A question expected to wait this long (seconds) in the search queue is told so first. Less
# is shown by "typing…" alone (Telegram shows it for 5 s), and each notice is one more message
# against Telegram's 30 a second, the very budget an overloaded bot lacks.
DELAY_NOTICE_SECONDS = 8.0
# "typing…" only for a wait a reader notices: Telegram asks bots to send it "when a response
# from the bot will take a noticeable amount of time to arrive" (core.telegram.org/bots/api,
# sendChatAction), and about 1 s is where a wait starts to break the flow of thought (Nielsen,
# "Response Times: The 3 Important Limits"). An answer found sooner costs the bot one Bot API
# request instead of two, which a busy bot spends on answers.
TYPING_AFTER_SECONDS = 1.0
# ... and only while the bot can afford it (`BotState.chat_actions`).

Send = Callable[[str, InlineKeyboardMarkup | None], Awaitable[object]]
Typing = Callable[[], Awaitable[None]]
Notify = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Found:
    """The hits for a question: ranks offset+1, offset+2, … (a page and a look beyond it)."""

    question: str  # as searched: whitespace collapsed, cut to the length limit
    truncated: bool
    offset: int
    hits: list[Hit]
    recency: Recency | None = None  # a question asking for the newest news
    quantized: bool = False  # searched with int8 question vectors (`Query.quantized`)


@dataclass(frozen=True)
class Refused:
    """No search was made or it failed: what to tell the asker in a chat, or in a toast."""

    text: str | None  # None: say nothing (e.g. a user already told about the rate limit)
    toast: str


@dataclass(frozen=True)
class Reply:
    """A composed answer page."""

    html: str
    markup: InlineKeyboardMarkup | None
    answered: int  # passages presented as answers; 0 for the honest "nothing found"


def prepare_question(text: str, limit: int) -> tuple[str, bool]:
    """Whitespace-normalized question, cut at a word boundary to `limit`; True if it was cut."""
    question = " ".join(text.split())
    cut = cut_at_word(question, limit)
    return cut, cut != question


async def search(
    state: BotState,
    user_id: int,
    text: str,
    *,
    offset: int = 0,
    count: int | None = None,
    typing: Typing | None = None,
    notify: Notify | None = None,
    recency: Recency | None = None,
    quantized: bool | None = None,
) -> Found | Refused:
    """Search for `text` on behalf of `user_id`: `count` hits (default: a page and a look at
    the next) from rank offset + 1, through the shared queue (bot/searches.py). Empty
    questions cost no rate-limit token; `notify` tells the asker when the wait will be long.
    A question asking for the newest news (`recency`, else detected) gets them newest first.
    `quantized`: search with int8 question vectors (True) or float32 (False), as an earlier
    page of the question was; None lets a busy queue choose (`Found.quantized` says which)."""
    settings = state.settings
    question, truncated = prepare_question(text, settings.max_question_chars)
    empty = messages.EMPTY_QUESTION.format(example=messages.EXAMPLE_QUESTIONS[0])
    if not question and recency is None:
        return Refused(empty, messages.SEARCH_FAILED)
    recency = recency or detect(question)
    decision = await state.limiter.acquire(user_id)
    if not decision.allowed:
        seconds = counted(decision.retry_seconds, messages.SECONDS)
        notice = messages.RATE_LIMITED.format(seconds=seconds) if decision.notify else None
        return Refused(notice, messages.TOAST_RATE_LIMITED)
    # a page and a look at the next one, which needs only the relevance of its hits
    explain = settings.top_k if count is None else count
    count = count or 2 * settings.top_k
    query = Query(
        question,
        count,
        settings.search_mode,
        offset,
        explain=explain,
        recency=recency,
        min_relevance=settings.min_relevance,
        quantized=bool(quantized),
    )
    try:
        ticket = state.queue.submit(user_id, query, pinned=quantized is not None)
    except Overloaded as busy:
        seconds = counted(max(1, math.ceil(busy.retry_after)), messages.SECONDS)
        return Refused(messages.BUSY.format(seconds=seconds), messages.TOAST_BUSY)
    if notify is not None and ticket.wait >= DELAY_NOTICE_SECONDS:
        wait = counted(math.ceil(ticket.wait), messages.SECONDS)
        await notify(messages.DELAYED.format(seconds=wait))
    try:
        hits = await _hits_with_typing(ticket, typing, state.chat_actions)
    except EmptyQuery:  # only punctuation or emoji
        return Refused(empty, messages.SEARCH_FAILED)
    except IndexNotReady:
        return Refused(messages.NOT_READY, messages.NOT_READY)
    except StoreUnavailable as exc:
        log.warning("search refused: %s", exc)
        return Refused(messages.STORE_UNAVAILABLE, messages.TOAST_STORE_UNAVAILABLE)
    except RetrievalError:
        log.warning("search failed", exc_info=True)
        return Refused(messages.SEARCH_FAILED, messages.SEARCH_FAILED)
    return Found(question, truncated, offset, list(hits), recency, ticket.query.quantized)


async def _hits_with_typing(
    ticket: Ticket, typing: Typing | None, budget: AsyncLimiter
) -> list[Hit]:
    """The ticket's hits (raises what the search raised). "typing…" is shown once they are
    expected to take, or have taken, TYPING_AFTER_SECONDS (`Ticket.wait` is the queue's
    estimate), if `budget` has room for one more chat action, and never holds them up: a
    request still under way when they come is dropped."""
    if typing is None:
        return await ticket.result
    if ticket.wait < TYPING_AFTER_SECONDS:
        done, _ = await asyncio.wait({ticket.result}, timeout=TYPING_AFTER_SECONDS)
        if done:
            return ticket.result.result()
    if not budget.has_capacity():
        return await ticket.result
    await budget.acquire()  # at once: there is room
    shown: asyncio.Future[None] = asyncio.ensure_future(typing())
    try:
        return await ticket.result
    finally:
        shown.cancel()


async def answer(
    state: BotState,
    user_id: int,
    chat_type: str,
    text: str,
    send: Send,
    typing: Typing | None = None,
) -> None:
    """A question from a chat: the first page as a reply, then the question is recorded."""
    started = time.perf_counter()

    async def notify(notice: str) -> None:
        await send(notice, None)

    found = await search(state, user_id, text, typing=typing, notify=notify)
    if isinstance(found, Refused):
        if found.text:
            await send(found.text, None)
        return
    question_id = new_question_id()
    state.questions.put(question_id, found.question)
    truncated_at = state.settings.max_question_chars if found.truncated else None
    dating = await _dating(state, found.recency) if found.recency else None
    if found.recency is not None and dating is not None and not found.recency.topic:
        reply = compose_latest(state.settings, found.hits, dating)  # «ما آخر الأخبار؟»
    else:
        reply = compose_answer(
            state.settings,
            question_id,
            found.hits,
            offset=0,
            truncated_at=truncated_at,
            dating=dating,
            quantized=found.quantized,
        )
    await send(reply.html, reply.markup)
    record = QueryRecord(
        question_id=question_id,
        user_hash=state.settings.hash_user(user_id),
        chat_type=chat_type,
        question=found.question,
        truncated=found.truncated,
        answered=reply.answered,
        top_score=max(
            (h.dense_score for h in found.hits if h.dense_score is not None), default=None
        ),
        latency_ms=round((time.perf_counter() - started) * 1000),
    )
    state.recorder.add(record)  # the answer is out: recorded in the background


async def page(
    state: BotState, user_id: int, question_id: str, offset: int, quantized: bool = False
) -> Reply | Refused:
    """Another page of an earlier question («المزيد» / «السابق»), searched as its first page
    was (`quantized`: with int8 question vectors)."""
    question = await asyncio.to_thread(state.questions.get, question_id)
    if question is None:
        return Refused(None, messages.TOAST_STALE)
    found = await search(state, user_id, question, offset=offset, quantized=quantized)
    if isinstance(found, Refused):
        return found
    settings = state.settings
    if not select_relevant(found.hits, settings.top_k, settings.min_relevance, offset)[0]:
        return Refused(None, messages.TOAST_NO_MORE)
    dating = await _dating(state, found.recency) if found.recency else None
    return compose_answer(
        settings, question_id, found.hits, offset=offset, dating=dating, quantized=quantized
    )


async def latest(
    state: BotState, user_id: int, topic: str, send: Send, typing: Typing | None = None
) -> None:
    """/latest [موضوع]: the newest articles, or the newest of those about a topic."""
    recency = about(" ".join(topic.split()))
    found = await search(state, user_id, topic, count=LATEST_SHOWN, typing=typing, recency=recency)
    if isinstance(found, Refused):
        if found.text:
            await send(found.text, None)
        return
    reply = compose_latest(state.settings, found.hits, await _dating(state, recency), recency.topic)
    await send(reply.html, reply.markup)


async def _dating(state: BotState, recency: Recency) -> Dating:
    """How to date the newest news: from now, or for an archive from its newest article."""
    reference = await asyncio.to_thread(state.lib.reference_time)
    return Dating.of(recency, reference, datetime.now(UTC))


async def inline(state: BotState, user_id: int, text: str) -> tuple[str, list[Hit]]:
    """The question as searched and its relevant hits for inline mode (none when refused)."""
    found = await search(state, user_id, text, count=INLINE_RESULTS)
    if isinstance(found, Refused):
        return "", []
    shown, _ = select_relevant(found.hits, INLINE_RESULTS, state.settings.min_relevance)
    return found.question, shown


# --- pure parts -------------------------------------------------------------------------------
def compose_answer(
    settings: Settings,
    question_id: str,
    hits: Sequence[Hit],
    *,
    offset: int,
    truncated_at: int | None = None,
    dating: Dating | None = None,
    quantized: bool = False,
) -> Reply:
    """The reply to a question (or a later page of it): relevant hits, or an honest "no"; a
    question asking for the newest news (`dating`) gets them newest first, with their ages.
    `quantized`: the hits were searched with int8 question vectors, and so will later pages."""
    shown, has_more = select_relevant(hits, settings.top_k, settings.min_relevance, offset)
    if shown:
        header = answer_header(dating, shown) if dating and offset == 0 else None
        ages = [dating.age(h.published_at) for h in shown] if dating else []
        html = format_answer(
            shown,
            truncated_at=truncated_at,
            header=header,
            ages=ages,
            newest_first=dating is not None,
        )
        markup = answer_keyboard(
            question_id,
            [(h.article_id, h.title) for h in shown],
            offset=offset,
            page_size=settings.top_k,
            has_more=has_more,
            quantized=quantized,
        )
        return Reply(html, markup, len(shown))
    on_topic = [h for h in hits[:CLOSEST_SHOWN] if shares_topic(h)]
    closest = [replace(h, rank=i + 1) for i, h in enumerate(on_topic)]
    html = format_no_answer(closest, truncated_at=truncated_at)
    return Reply(html, articles_keyboard([(h.article_id, h.title) for h in closest]), 0)


def compose_latest(
    settings: Settings, hits: Sequence[Hit], dating: Dating, topic: str = ""
) -> Reply:
    """The newest articles (about `topic`) as a list, and a row of numbered full-text buttons."""
    shown, _ = select_relevant(hits, LATEST_SHOWN, settings.min_relevance)
    if not shown:
        text = format_no_latest(topic) if topic else messages.INDEX_EMPTY
        return Reply(text, None, 0)
    markup = numbers_keyboard([h.article_id for h in shown])
    return Reply(format_latest(shown, dating, topic), markup, len(shown))


def shares_topic(hit: Hit) -> bool:
    """Whether a hit that does not answer is still about the question's topic (its words)."""
    return hit.evidence is not None and hit.evidence.coverage >= CLOSEST_MIN_COVERAGE


def select_relevant(
    hits: Sequence[Hit], k: int, min_relevance: float, offset: int = 0
) -> tuple[list[Hit], bool]:
    """The hits worth showing on one page (numbered from offset + 1) and whether more follow.

    `hits` are ranks offset+1, offset+2, ...: the page is drawn from the first k only, so the
    next page (offset + k) never repeats a hit; more follow when a later hit is relevant.
    A hit is relevant when the answer gate's probability that it answers the question
    (`Hit.relevance`, retrieval/gate.py) reaches `min_relevance`; hits without one
    (lexical-only retrieval) are shown as ranked.
    """

    page = [h for h in hits[:k] if h.passes(min_relevance)]
    numbered = [replace(h, rank=offset + i + 1) for i, h in enumerate(page)]
    return numbered, any(h.passes(min_relevance) for h in hits[k:])
