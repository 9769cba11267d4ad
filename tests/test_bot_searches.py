"""The search queue: batches, fairness between users, back-pressure, errors (a fake search)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiolimiter import AsyncLimiter

from bot import answers, callbacks, messages
from bot.ratelimit import RateLimiter
from bot.records import create_tables
from bot.searches import Overloaded, SearchQueue
from bot.settings import Settings
from bot.state import STATE_KEY, BotState
from corpus.store import create_db_engine, init_db
from retrieval.errors import EmptyQuery, IndexNotReady, RetrievalError
from retrieval.query import Query
from retrieval.types import Hit
from tests.test_bot_format import make_hit

pytestmark = pytest.mark.asyncio


class FakeSearch:
    """Records each batch; the first batch blocks until `release` is set."""

    def __init__(self, block_first: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.queries: list[list[Query]] = []
        self.release = threading.Event()
        self.started = threading.Event()
        self.block_first = block_first
        self.fail: Exception | None = None

    def __call__(self, queries: Sequence[Query]) -> list[list[Hit] | RetrievalError]:
        self.batches.append([q.question for q in queries])
        self.queries.append(list(queries))
        self.started.set()
        if self.block_first and len(self.batches) == 1:
            assert self.release.wait(5)
        if self.fail is not None:
            raise self.fail
        return [
            EmptyQuery("no letters") if q.question == "؟" else [make_hit(len(q.question))]
            for q in queries
        ]


async def _until(event: threading.Event) -> None:
    assert await asyncio.to_thread(event.wait, 5)


async def test_a_lone_question_is_searched_at_once_alone() -> None:
    search = FakeSearch()
    queue = SearchQueue(search)
    ticket = queue.submit(1, Query("سؤال"))
    hits = await asyncio.wait_for(ticket.result, 5)
    assert search.batches == [["سؤال"]] and hits[0].passage_id == len("سؤال")
    await queue.close()


async def test_questions_arriving_during_a_batch_are_searched_together_next() -> None:
    search = FakeSearch(block_first=True)
    queue = SearchQueue(search, max_batch=4)
    first = queue.submit(1, Query("أول"))
    await _until(search.started)
    later = [queue.submit(user, Query(f"سؤال {user}")) for user in range(2, 8)]
    assert queue.queued == 6 and all(t.wait > first.wait for t in later)
    search.release.set()
    await asyncio.wait_for(asyncio.gather(first.result, *(t.result for t in later)), 5)
    assert [len(b) for b in search.batches] == [1, 4, 2]  # 6 waiting, batches of at most 4
    await queue.close()


async def test_a_queue_behind_sheds_the_answer_sentence_model_and_float32_encoding() -> None:
    """A batch that leaves questions waiting is searched cheaper (no model in the answer
    sentence, int8 question vectors); the batch that empties the queue, in full."""
    search = FakeSearch(block_first=True)
    queue = SearchQueue(search, max_batch=2, shed_after=60)  # none waits that long here
    first = queue.submit(1, Query("أول"))
    await _until(search.started)
    later = [queue.submit(user, Query(f"سؤال {user}")) for user in range(2, 5)]
    search.release.set()
    await asyncio.wait_for(asyncio.gather(first.result, *(t.result for t in later)), 5)
    shed = [[(q.model_sentence, q.quantized) for q in batch] for batch in search.queries]
    # alone at first; then 3 waiting: a batch of 2 leaves one behind, the last empties the queue
    assert shed == [[(True, False)], [(False, True), (False, True)], [(True, False)]]
    await queue.close()


async def test_users_left_out_of_a_batch_are_no_backlog_while_a_worker_is_idle() -> None:
    """Four users at once (one getUpdates answer) on an idle queue of two workers and batches
    of 3: the second worker takes the fourth at once, so nothing is shed. With the second
    worker busy, the same four leave one waiting: that batch is shed."""
    search = FakeSearch()
    queue = SearchQueue(search, max_batch=3, workers=2, shed_after=60)
    tickets = [queue.submit(user, Query(f"سؤال {user}")) for user in range(1, 5)]
    await asyncio.wait_for(asyncio.gather(*(t.result for t in tickets)), 5)
    assert sorted(len(b) for b in search.batches) == [1, 3]
    assert all(q.model_sentence and not q.quantized for b in search.queries for q in b)
    await queue.close()

    search = FakeSearch(block_first=True)
    queue = SearchQueue(search, max_batch=3, workers=2, shed_after=60)
    first = queue.submit(0, Query("أول"))
    await _until(search.started)
    tickets = [queue.submit(user, Query(f"سؤال {user}")) for user in range(1, 5)]
    for _ in range(500):  # the second worker takes three (one left out), then the fourth
        if len(search.batches) == 3:
            break
        await asyncio.sleep(0.01)
    search.release.set()
    await asyncio.wait_for(asyncio.gather(first.result, *(t.result for t in tickets)), 5)
    modes = [[(q.model_sentence, q.quantized) for q in b] for b in search.queries]
    assert modes[1] == [(False, True)] * 3 and modes[2] == [(True, False)]
    await queue.close()


async def test_a_question_that_waited_long_is_searched_cheaper_even_when_it_empties_the_queue() -> (
    None
):
    """Mid-burst, with a batch in flight, a take can empty the queue: a question that has
    already waited `shed_after` seconds is shed all the same; a fresh one is not."""
    search = FakeSearch(block_first=True)
    queue = SearchQueue(search, max_batch=4, workers=1, shed_after=0.2)
    first = queue.submit(1, Query("أول"))
    await _until(search.started)
    waited = queue.submit(2, Query("انتظر"))
    await asyncio.sleep(0.3)
    search.release.set()
    await asyncio.wait_for(asyncio.gather(first.result, waited.result), 5)
    assert [(q.model_sentence, q.quantized) for q in search.queries[1]] == [(False, True)]
    fresh = queue.submit(3, Query("جديد"))  # the queue is idle: taken at once
    await asyncio.wait_for(fresh.result, 5)
    assert [(q.model_sentence, q.quantized) for q in search.queries[2]] == [(True, False)]
    with pytest.raises(ValueError):
        SearchQueue(search, shed_after=-1)
    await queue.close()


async def test_one_users_backlog_on_an_idle_queue_is_searched_in_full() -> None:
    """A batch takes one question per user: one user's three questions are three batches, and
    none is shed for that (the queue is not behind; nobody else waits)."""
    search = FakeSearch()
    queue = SearchQueue(search, max_batch=16, workers=1, shed_after=60)
    tickets = [queue.submit(1, Query(f"سؤال {n}")) for n in range(3)]
    await asyncio.wait_for(asyncio.gather(*(t.result for t in tickets)), 5)
    assert [len(b) for b in search.batches] == [1, 1, 1]
    assert all(q.model_sentence and not q.quantized for b in search.queries for q in b)
    assert not any(t.query.quantized for t in tickets)
    await queue.close()


async def test_a_pinned_page_keeps_its_encoding_when_the_batch_is_shed() -> None:
    """Pages of a question are searched as its first page was: a shed batch leaves a pinned
    query's `quantized` alone (either way), and the ticket says how each was searched."""
    search = FakeSearch(block_first=True)
    queue = SearchQueue(search, max_batch=4, workers=1, shed_after=0.2)
    first = queue.submit(1, Query("أول"))
    await _until(search.started)
    asked = queue.submit(2, Query("سؤال جديد"))
    page_full = queue.submit(3, Query("صفحة", offset=3), pinned=True)
    page_shed = queue.submit(4, Query("صفحة أخرى", offset=3, quantized=True), pinned=True)
    await asyncio.sleep(0.3)
    search.release.set()
    await asyncio.wait_for(
        asyncio.gather(*(t.result for t in (first, asked, page_full, page_shed))), 5
    )
    assert [q.quantized for q in search.queries[1]] == [True, False, True]
    assert [q.model_sentence for q in search.queries[1]] == [False, False, False]
    assert asked.query.quantized and not page_full.query.quantized and page_shed.query.quantized
    await queue.close()


async def test_a_batch_takes_one_question_per_user_in_turn() -> None:
    search = FakeSearch(block_first=True)
    queue = SearchQueue(search, max_batch=3)
    blocker = queue.submit(0, Query("يشغل الدفعة الأولى"))
    await _until(search.started)
    flood = [queue.submit(1, Query(f"سيل {n}")) for n in range(6)]
    others = [queue.submit(user, Query(f"مستخدم {user}")) for user in (2, 3)]
    search.release.set()
    await asyncio.wait_for(asyncio.gather(*(t.result for t in [blocker, *flood, *others])), 5)
    # the flooder's six questions delay the other two users by no more than one batch
    assert search.batches[1] == ["سيل 0", "مستخدم 2", "مستخدم 3"]
    assert search.batches[2:] == [["سيل 1"], ["سيل 2"], ["سيل 3"], ["سيل 4"], ["سيل 5"]]
    await queue.close()


async def test_back_pressure_refuses_instead_of_queueing_forever() -> None:
    search = FakeSearch(block_first=True)
    queue = SearchQueue(search, max_wait=10.5, workers=1)
    queue.seconds_per_question = 1.0  # as if measured
    queue.submit(0, Query("يشغل الدفعة"))  # ~1 s left of it
    await _until(search.started)
    tickets = [queue.submit(user, Query("د")) for user in range(1, 10)]
    waits = [t.wait for t in tickets]
    assert waits == sorted(waits) and 9.0 < waits[-1] <= 10.0
    queue.workers = 2  # two batches at a time: half the wait
    assert queue._estimate(9) == pytest.approx(waits[-1] / 2, abs=0.1)
    queue.workers = 1
    with pytest.raises(Overloaded) as full:
        queue.submit(50, Query("هـ"))  # would wait past max_wait
    assert full.value.retry_after > 0
    assert queue.queued == 9  # the refused question was not queued
    search.release.set()
    await asyncio.wait_for(asyncio.gather(*(t.result for t in tickets)), 5)
    await queue.close()


async def test_wait_estimates_follow_the_turns_not_the_arrival_order() -> None:
    search = FakeSearch(block_first=True)
    queue = SearchQueue(search, max_wait=100.0, workers=1)
    queue.seconds_per_question = 1.0
    queue.submit(0, Query("يشغل الدفعة"))
    await _until(search.started)
    flood = [queue.submit(1, Query(f"سيل {n}")) for n in range(8)]
    newcomer = queue.submit(2, Query("سؤال"))
    # behind one of the flooder's questions, not all eight
    assert newcomer.wait == pytest.approx(flood[1].wait, abs=0.05)
    assert newcomer.wait < flood[2].wait
    search.release.set()
    await asyncio.wait_for(asyncio.gather(newcomer.result, *(t.result for t in flood)), 5)
    await queue.close()


async def test_errors_reach_only_their_own_askers() -> None:
    search = FakeSearch()
    queue = SearchQueue(search)
    good, empty = queue.submit(1, Query("سؤال")), queue.submit(2, Query("؟"))
    with pytest.raises(EmptyQuery):
        await asyncio.wait_for(empty.result, 5)
    assert (await good.result)[0].passage_id == 4
    search.fail = IndexNotReady("no index")
    tickets = [queue.submit(user, Query("سؤال")) for user in (1, 2)]
    for ticket in tickets:
        with pytest.raises(IndexNotReady):
            await asyncio.wait_for(ticket.result, 5)
    search.fail = None  # the worker survived a failed batch
    assert (await asyncio.wait_for(queue.submit(3, Query("سؤال")).result, 5))[0]
    await queue.close()


async def test_close_cancels_what_waits_and_what_is_searched_and_refuses_more() -> None:
    search = FakeSearch(block_first=True)
    queue = SearchQueue(search)
    searched = queue.submit(0, Query("يشغل الدفعة"))
    await _until(search.started)
    waiting = queue.submit(1, Query("ينتظر"))
    await queue.close()
    search.release.set()
    assert waiting.result.cancelled() and searched.result.cancelled()
    with pytest.raises(Overloaded):
        queue.submit(2, Query("بعد الإغلاق"))


async def test_a_search_that_answers_wrongly_fails_its_askers_and_the_worker_goes_on() -> None:
    def wrong(queries: Sequence[Query]) -> list[list[Hit] | RetrievalError]:
        return [] if queries[0].question == "خطأ" else [[make_hit(1)] for _ in queries]

    queue = SearchQueue(wrong)
    with pytest.raises(RuntimeError):
        await asyncio.wait_for(queue.submit(1, Query("خطأ")).result, 5)
    assert await asyncio.wait_for(queue.submit(1, Query("سؤال")).result, 5)
    await queue.close()


async def test_the_answer_path_warns_of_a_long_wait_and_refuses_past_capacity() -> None:
    state = BotState(Settings(), RateLimiter(100))
    state.searches = SearchQueue(FakeSearch(), max_wait=12.0, workers=1)
    told: list[str] = []

    async def notify(text: str) -> None:
        told.append(text)

    found = await answers.search(state, 1, "سؤال سريع", notify=notify)
    assert isinstance(found, answers.Found) and not told  # a quick answer needs no notice
    state.queue.seconds_per_question = 9.0  # as if questions had been slow lately
    found = await answers.search(state, 2, "سؤال ينتظر", notify=notify)
    assert isinstance(found, answers.Found) and found.hits
    assert told == [messages.DELAYED.format(seconds="9 ثوانٍ")]
    state.queue.seconds_per_question = 13.0
    refused = await answers.search(state, 3, "سؤال لا مكان له", notify=notify)
    assert isinstance(refused, answers.Refused)
    assert refused.text == messages.BUSY.format(seconds="ثانية واحدة")
    assert refused.toast == messages.TOAST_BUSY
    await state.queue.close()


async def test_the_answer_path_reports_a_shed_search_and_pins_pages() -> None:
    """A question first searched by a busy queue comes back `Found.quantized`; a later page asks
    for the same encoding (pinned), whatever the queue's state."""
    state = BotState(Settings(), RateLimiter(100))
    search = FakeSearch()
    state.searches = SearchQueue(search, workers=1, shed_after=0)  # every batch is behind
    found = await answers.search(state, 1, "سؤال في زحمة")
    assert isinstance(found, answers.Found) and found.quantized
    page = await answers.search(state, 1, "سؤال في زحمة", offset=3, quantized=False)
    assert isinstance(page, answers.Found) and not page.quantized
    assert [q.quantized for b in search.queries for q in b] == [True, False]
    await state.queue.close()


async def test_typing_is_shown_only_for_a_wait_a_reader_notices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(answers, "TYPING_AFTER_SECONDS", 0.2)
    search = FakeSearch(block_first=True)
    state = BotState(Settings(), RateLimiter(100))
    state.searches = SearchQueue(search, workers=1)
    typed: list[int] = []

    async def typing() -> None:
        typed.append(1)

    search.release.set()  # answered at once: one request (the answer), no "typing…"
    found = await answers.search(state, 1, "سؤال سريع", typing=typing)
    assert isinstance(found, answers.Found) and found.hits and typed == []

    search.batches.clear()
    search.started.clear()
    search.release.clear()  # a slow search: "typing…" once it has taken TYPING_AFTER_SECONDS
    slow = asyncio.create_task(answers.search(state, 2, "سؤال بطيء", typing=typing))
    await _until(search.started)
    await asyncio.sleep(0.1)
    assert typed == []
    for _ in range(50):
        if typed:
            break
        await asyncio.sleep(0.05)
    assert typed == [1] and not slow.done()
    search.release.set()
    found = await asyncio.wait_for(slow, 5)
    assert isinstance(found, answers.Found) and found.hits and typed == [1]

    search.batches.clear()
    search.started.clear()
    search.release.clear()
    state.queue.seconds_per_question = 0.5  # expected to wait past the limit: "typing…" at once
    typed.clear()
    waiting = asyncio.create_task(answers.search(state, 3, "سؤال ينتظر", typing=typing))
    await _until(search.started)
    await asyncio.sleep(0.05)
    assert typed == [1]
    search.release.set()
    found = await asyncio.wait_for(waiting, 5)
    assert isinstance(found, answers.Found) and typed == [1]

    # a burst: past the chat-action budget "typing…" is skipped (not queued), answers still come
    search.batches.clear()
    search.started.clear()
    search.release.clear()
    state.chat_actions = AsyncLimiter(2, 60)  # room for two
    typed.clear()
    burst = [
        asyncio.create_task(answers.search(state, 10 + i, f"سؤال رقم {i}", typing=typing))
        for i in range(5)
    ]
    await _until(search.started)
    await asyncio.sleep(0.05)
    assert typed == [1, 1] and not any(task.done() for task in burst)
    search.release.set()
    done = await asyncio.wait_for(asyncio.gather(*burst), 5)
    assert all(isinstance(f, answers.Found) and f.hits for f in done) and typed == [1, 1]
    await state.queue.close()


class _PagedSearch:
    """Every query gets k hits ranked from offset + 1; records the queries as searched."""

    def __init__(self) -> None:
        self.queries: list[Query] = []

    def __call__(self, queries: Sequence[Query]) -> list[list[Hit] | RetrievalError]:
        self.queries += list(queries)
        return [[make_hit(q.offset + i + 1) for i in range(q.k)] for q in queries]


def _page_buttons(markup: object) -> list[str]:
    rows = markup.inline_keyboard  # type: ignore[attr-defined]
    return [str(b.callback_data) for row in rows for b in row if str(b.callback_data)[:2] == "p|"]


async def test_a_shed_answers_pages_are_searched_as_it_was_through_the_buttons(
    tmp_path: Path,
) -> None:
    """Through the real answer and button paths: an answer searched by a busy queue (int8)
    offers «المزيد» marked `|q`; pressing it searches int8 again (pinned) and keeps the mark;
    a button from before this release (no mark) is searched with float32."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    init_db(engine)
    state = BotState(Settings(top_k=3), RateLimiter(100))
    state.records = create_tables(engine)
    search = _PagedSearch()
    state.searches = SearchQueue(search, workers=1, shed_after=0)  # every batch is behind
    sent: list[object] = []

    async def send(html: str, markup: object) -> None:
        sent.append(markup)

    await answers.answer(state, 1, "private", "سؤال في زحمة", send)
    [more] = _page_buttons(sent[0])
    assert more.endswith("|3|q")
    edits: list[object] = []

    async def edit(html: str, reply_markup: object = None) -> None:
        edits.append(reply_markup)

    async def toast(text: str | None = None) -> None:
        pass

    query = SimpleNamespace(
        data=more, from_user=SimpleNamespace(id=1), edit_message_text=edit, answer=toast
    )
    context = SimpleNamespace(bot_data={STATE_KEY: state})
    await callbacks.on_button(SimpleNamespace(callback_query=query), context)  # type: ignore[arg-type]
    assert search.queries[-1].offset == 3 and search.queries[-1].quantized
    assert _page_buttons(edits[-1]) and all(p.endswith("|q") for p in _page_buttons(edits[-1]))
    query.data = more.removesuffix("|q")
    await callbacks.on_button(SimpleNamespace(callback_query=query), context)  # type: ignore[arg-type]
    assert not search.queries[-1].quantized
    assert not any(p.endswith("|q") for p in _page_buttons(edits[-1]))
    await state.queue.close()
    engine.dispose()
