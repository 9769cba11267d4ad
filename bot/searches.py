"""Questions that arrive together are searched together: a fair queue in front of the library.

One worker takes what is waiting, up to `max_batch` questions, and searches them in one call
(`Library.search_many`: one encoder call for all of them; MAX_BATCH says what that saves and why
batches stay small); what arrives meanwhile forms the next batch. A lone question never waits:
an idle worker takes it at once (the dynamic batching of embedding servers such as
text-embeddings-inference). A batch takes at most one question per user, in turn, so a user
who floods delays others by at most one batch.

Past capacity a question is not left to wait in silence: the queue estimates each newcomer's
wait from the recent cost of a question, and the caller tells the user when it is long
(`Ticket.wait`); one that would wait beyond `max_wait` is refused with `Overloaded` (the user
is told to ask again). How many questions one user may send is the rate limiter's business
(bot/ratelimit.py); here a user's questions only take turns with everyone else's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from retrieval.errors import RetrievalError
from retrieval.query import Query
from retrieval.types import Hit

log = logging.getLogger(__name__)

SearchMany = Callable[[Sequence[Query]], list[list[Hit] | RetrievalError]]
# Questions in one batch at most. Batching pays for the model's fixed cost per call (ONNX Runtime,
# one thread: one question 26.5 ms, 15.5 ms each of 16; README, query_encoding), but a question's
# ranking, passages and answer sentences (half or more of its cost in a search process) do not
# batch, and a big batch holds every answer in it until the last is ready: its askers wait for the
# batch ahead and then for their own. A 6 s burst at 40/s from 30 users (`benchmarks.load --rates 40
# --reindex none --env SEARCH_BATCH=N`, or the first burst of `--reindex full`, right after a start,
# one afternoon), p95 ms: N 1: 1,834, 1,951 (2 runs); N 2: 1,101-1,451 (4 runs); N 3: 1,231-1,295
# (4); N 4: 1,294-1,387 (4); N 8: 1,507-1,834 (4); N 16: 2,023-2,512 (4). During a `/reindex full`:
# N 1: 2,435, 3,935; N 2: 2,350, 1,469; N 3: 1,627, 1,271. Sizes were interleaved run by run; 2 to 4
# are within the afternoon's drift of one another (later runs at 3 gave 1,034-1,228), 8 and 16
# clearly worse. Measured before the shed rule asked for no idle worker (see `_take`).
MAX_BATCH = 3
# Refuse a question that would wait longer than this (seconds): past it an answer is worth less
# than an honest "ask again".
MAX_WAIT = 20.0
# Seconds per question assumed before any batch was measured (for wait estimates): about its
# share of a full batch of 16 in the bot on a 2-core machine (benchmarks/load.py, before
# a0e7dd4); batches of 3 cost ~0.05 s a question at 40/s, so a first estimate errs long.
FIRST_ESTIMATE = 0.08
SMOOTHING = 0.3  # weight of the newest full batch in the running cost per question
# Batches searched at once: while one runs Python (one core, the GIL), another's model work
# can use the other core.
WORKERS = 2
# A batch is searched cheaper (see `SearchQueue._take`) when the queue is behind: users are
# left out of a full batch with no idle worker to take them, or its oldest question has
# already waited this long (seconds). The second test matters: with WORKERS batches in flight
# a take often empties the queue in the middle of a burst. A lone question taken by an idle
# worker is never shed.
SHED_AFTER = 0.25


class Overloaded(Exception):
    """The question was not queued; `retry_after` seconds is a fair time to ask again."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"search queue full; retry after {retry_after:.0f} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Ticket:
    """A queued question: its expected wait (seconds, from the recent cost of a question)
    and the future that gets its hits (or the RetrievalError its search raised)."""

    wait: float
    result: asyncio.Future[list[Hit]]
    _waiting: _Waiting

    @property
    def query(self) -> Query:
        """The query as it is (or was) searched: a busy queue may shed some of its work."""
        return self._waiting.query


@dataclass
class _Waiting:
    query: Query
    future: asyncio.Future[list[Hit]]
    pinned: bool = False  # its Query.quantized is kept (a later page of a question)
    since: float = field(default_factory=time.monotonic)


class SearchQueue:
    """Fair micro-batching of searches; use from the event loop only (not thread-safe)."""

    def __init__(
        self,
        search_many: SearchMany,
        *,
        max_batch: int = MAX_BATCH,
        max_wait: float = MAX_WAIT,
        workers: int = WORKERS,
        shed_after: float = SHED_AFTER,
    ) -> None:
        if max_batch < 1 or workers < 1 or max_wait <= 0 or shed_after < 0:
            raise ValueError("max_batch and workers must be >= 1, max_wait > 0, shed_after >= 0")
        self.shed_after = shed_after
        self._search_many = search_many
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._users: OrderedDict[int, deque[_Waiting]] = OrderedDict()  # turn order
        self._queued = 0
        self.workers = workers
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._running: dict[object, tuple[int, float]] = {}  # batch -> (questions, since)
        self._in_flight: dict[object, list[_Waiting]] = {}
        self._closed = False
        self.seconds_per_question = FIRST_ESTIMATE

    @property
    def queued(self) -> int:
        """Questions waiting for a batch (the one being searched not counted)."""
        return self._queued

    def submit(self, user_id: int, query: Query, *, pinned: bool = False) -> Ticket:
        """Queue `query` for `user_id`; raise Overloaded when it cannot be taken. `pinned`:
        its `quantized` stays as given (pages of a question rank as its first page did)."""
        if self._closed:
            raise Overloaded(self.max_wait)
        wait = self._estimate(self._ahead(user_id) + 1)
        if wait > self.max_wait:
            raise Overloaded(wait - self.max_wait)  # once that much of the queue is done
        future: asyncio.Future[list[Hit]] = asyncio.get_running_loop().create_future()
        waiting = _Waiting(query, future, pinned)
        self._users.setdefault(user_id, deque()).append(waiting)
        self._queued += 1
        self._wake.set()
        self._tasks = [t for t in self._tasks if not t.done()]
        while len(self._tasks) < self.workers:
            self._tasks.append(asyncio.create_task(self._work(), name="search-worker"))
        return Ticket(wait, future, waiting)

    def _ahead(self, user_id: int) -> int:
        """Questions searched before this user's next one: batches take one per user in turn,
        so the user's own waiting ones and, of every other user's, up to one more than that."""
        own = len(self._users.get(user_id, ()))
        others = sum(min(len(w), own + 1) for u, w in self._users.items() if u != user_id)
        return own + others

    def _estimate(self, position: int) -> float:
        """Seconds until the question at `position` (1 = next) is answered: the batches being
        searched finish, then everything up to it, at the recent cost per question, shared
        among the workers."""
        cost, now = self.seconds_per_question, time.monotonic()
        left = sum(max(0.0, n * cost - (now - since)) for n, since in self._running.values())
        return (left + position * cost) / self.workers

    def _take(self) -> list[_Waiting]:
        """The next batch: one question per user, in turn, up to max_batch. When users are left
        waiting even so (the batch is full) and every other worker is busy, or one of the batch has
        waited `shed_after` seconds, the queue is behind: the batch sheds the model's
        answer-sentence refinement (`Query.model_sentence`) and encodes its questions, pinned ones
        aside, with the model's int8 variant (`Query.quantized`), together half a question's cost in
        a search process (benchmarks/shed.py gives what answers lose). One user's own backlog is no
        reason: a batch takes one question per user anyway."""
        batch: list[_Waiting] = []
        taken: set[int] = set()
        for user_id in list(self._users):
            if len(batch) >= self.max_batch:
                break
            waiting = self._users.pop(user_id)
            batch.append(waiting.popleft())
            taken.add(user_id)
            if waiting:
                self._users[user_id] = waiting  # back of the line
        self._queued -= len(batch)
        now = time.monotonic()
        # users left out are a backlog only when no idle worker is there to take them next
        no_idle = len(self._running) + 1 >= self.workers
        left_out = no_idle and any(user_id not in taken for user_id in self._users)
        if left_out or any(now - w.since >= self.shed_after for w in batch):
            for w in batch:
                quantized = w.query.quantized if w.pinned else True
                w.query = replace(w.query, model_sentence=False, quantized=quantized)
        return batch

    async def _work(self) -> None:
        while True:
            if not self._queued:
                self._wake.clear()
                await self._wake.wait()
            batch = [w for w in self._take() if not w.future.done()]  # done: asker gave up
            if batch:
                await self._search(batch)

    async def _search(self, batch: list[_Waiting]) -> None:
        """Search one batch and hand each asker its result; whatever goes wrong reaches the
        askers as an exception (none is left waiting), and the worker goes on."""
        started = time.monotonic()
        key = object()
        self._running[key] = (len(batch), started)
        self._in_flight[key] = batch
        try:
            results = await asyncio.to_thread(self._search_many, [w.query for w in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{len(results)} results for {len(batch)} questions")
            for w, result in zip(batch, results, strict=True):
                if w.future.done():
                    continue
                if isinstance(result, BaseException):
                    w.future.set_exception(result)
                else:
                    w.future.set_result(result)
        except Exception as exc:  # the whole batch failed (e.g. IndexNotReady)
            for w in batch:
                if not w.future.done():
                    w.future.set_exception(exc)
        finally:
            del self._running[key], self._in_flight[key]
            # A lone question costs more than its share of a full batch: small batches move
            # the estimate less, so a burst's first ones do not inflate it.
            seconds = time.monotonic() - started
            shed = sum(not w.query.model_sentence for w in batch)
            log.debug("batch of %d searched in %.0f ms, %d shed", len(batch), seconds * 1e3, shed)
            per_question = seconds / len(batch)
            weight = SMOOTHING * len(batch) / self.max_batch
            self.seconds_per_question += weight * (per_question - self.seconds_per_question)

    async def close(self) -> None:
        """Stop the workers; questions waiting or being searched are cancelled, new ones
        refused."""
        self._closed = True
        for waiting in [*self._users.values(), *self._in_flight.values()]:
            for w in waiting:
                w.future.cancel()
        self._users.clear()
        self._queued = 0
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
