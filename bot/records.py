"""What the bot keeps in the database: questions asked, feedback, admin actions, followed
topics and the alerts sent for them.

User ids are stored only as salted hashes (Settings.hash_user), except the chat ids of
followers: alerts must reach them (/unfollow, or blocking the bot, deletes them). The question
text is kept so that "more" buttons keep working after a restart. Every function here blocks:
call it via asyncio.to_thread from handlers (QueryLogWriter does so itself).
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Engine,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from corpus.columns import UTCDateTime, utc_now
from retrieval.errors import StoreUnavailable

log = logging.getLogger(__name__)

LATENCY_WINDOW = 10_000  # /stats percentiles over the most recent questions


class BotBase(DeclarativeBase):
    """Declarative base of the bot's own tables (the corpus's are the library's)."""


class QueryLog(BotBase):
    """One question and how it was answered."""

    __tablename__ = "bot_queries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[str] = mapped_column(String(16), unique=True)
    user_hash: Mapped[str] = mapped_column(String(64), index=True)
    chat_type: Mapped[str] = mapped_column(String(16))
    question: Mapped[str] = mapped_column(Text)
    question_chars: Mapped[int] = mapped_column(Integer)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    answered: Mapped[int] = mapped_column(Integer)
    top_score: Mapped[float | None] = mapped_column(Float)
    latency_ms: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, index=True)


class Feedback(BotBase):
    """👍 / 👎 on an answer; one per user and question (the latest vote wins)."""

    __tablename__ = "bot_feedback"
    __table_args__ = (UniqueConstraint("question_id", "user_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[str] = mapped_column(String(16), index=True)
    user_hash: Mapped[str] = mapped_column(String(64))
    helpful: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, onupdate=utc_now)


class AdminAction(BotBase):
    """An admin command and its outcome."""

    __tablename__ = "bot_admin_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_hash: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    ok: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, index=True)


class RateLimitState(BotBase):
    """One user's sliding window of questions (`bot.ratelimit.SharedRateLimiter`)."""

    __tablename__ = "bot_rate_limits"

    user_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    events: Mapped[str] = mapped_column(Text)  # JSON list of Unix seconds
    warned: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[float] = mapped_column(Float, index=True)  # Unix seconds


class Follow(BotBase):
    """A topic a user follows (/follow): new articles about it are sent to `chat_id`."""

    __tablename__ = "bot_follows"
    __table_args__ = (UniqueConstraint("chat_id", "topic"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    topic: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class Alert(BotBase):
    """An article sent to a follower; the unique pair is claimed before sending, so no replica
    sends it twice."""

    __tablename__ = "bot_alerts"
    __table_args__ = (UniqueConstraint("chat_id", "article_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    article_id: Mapped[int] = mapped_column(Integer)
    follow_id: Mapped[int | None] = mapped_column(ForeignKey("bot_follows.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, index=True)


def is_outage(error: BaseException | None) -> bool:
    """Whether `error` means the database cannot be reached right now (so: "try again in a
    moment", not a defect): the library's StoreUnavailable, or a connection failure met by
    the bot's own tables."""
    return isinstance(error, StoreUnavailable | OperationalError | InterfaceError)


def create_tables(engine: Engine) -> sessionmaker[Session]:
    """A session factory for the bot's tables. The tables themselves come from the database's
    migrations (corpus/migrations), which `Library.open` runs before the bot starts."""
    return sessionmaker(engine, expire_on_commit=False)


@dataclass(frozen=True)
class QueryRecord:
    question_id: str
    user_hash: str
    chat_type: str
    question: str
    truncated: bool
    answered: int
    top_score: float | None
    latency_ms: int


def log_queries(factory: sessionmaker[Session], records: Sequence[QueryRecord]) -> None:
    """Store `records` in one transaction."""
    with factory() as session:
        session.add_all(
            QueryLog(
                question_id=record.question_id,
                user_hash=record.user_hash,
                chat_type=record.chat_type,
                question=record.question,
                question_chars=len(record.question),
                truncated=record.truncated,
                answered=record.answered,
                top_score=record.top_score,
                latency_ms=record.latency_ms,
            )
            for record in records
        )
        session.commit()


class QueryLogWriter:
    """Answered questions recorded off the answer's path, by group commit: a record waits for
    no timer (alone, it is written at once), and those that arrive while a transaction is
    being written go together in the next one. One commit per question cost a busy bot about
    an eighth of its CPU (benchmarks/load.py at 40 questions/s, profiled with py-spy).

    A database outage loses the records of that transaction, with a warning (the answers are
    out: the user sees nothing of it); `flush` waits until everything added is written."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self._pending: list[QueryRecord] = []
        self._writer: asyncio.Task[None] | None = None

    def add(self, record: QueryRecord) -> None:
        """Queue `record` (call from the event loop; never blocks)."""
        self._pending.append(record)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await asyncio.to_thread(log_queries, self.factory, batch)
            except Exception as exc:
                if not is_outage(exc):
                    log.exception("%d questions not recorded", len(batch))
                else:
                    log.warning(
                        "%d questions not recorded, the database failed: %s",
                        len(batch),
                        type(exc).__name__,
                    )

    async def flush(self) -> None:
        """Return once every record added so far is written (or given up)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)


def find_question(factory: sessionmaker[Session], question_id: str) -> str | None:
    with factory() as session:
        return session.scalar(select(QueryLog.question).where(QueryLog.question_id == question_id))


def record_feedback(
    factory: sessionmaker[Session], question_id: str, user_hash: str, helpful: bool
) -> None:
    """One vote per user and question; a new vote replaces the old one."""
    for _ in range(2):  # a double tap may race another insert of the same vote: then update it
        with factory() as session:
            vote = session.scalar(
                select(Feedback).where(
                    Feedback.question_id == question_id, Feedback.user_hash == user_hash
                )
            )
            if vote is None:
                session.add(Feedback(question_id=question_id, user_hash=user_hash, helpful=helpful))
            else:
                vote.helpful = helpful
            try:
                session.commit()
                return
            except IntegrityError:
                session.rollback()
    raise RuntimeError("feedback could not be stored")


def record_admin_action(
    factory: sessionmaker[Session], user_hash: str, action: str, detail: str, ok: bool
) -> None:
    with factory() as session:
        session.add(AdminAction(user_hash=user_hash, action=action, detail=detail[:2000], ok=ok))
        session.commit()


@dataclass(frozen=True)
class UsageStats:
    questions_today: int
    questions_total: int
    median_ms: float | None
    p95_ms: float | None
    helpful: int
    unhelpful: int


def usage_stats(factory: sessionmaker[Session], now: datetime | None = None) -> UsageStats:
    """Question counts (today is since 00:00 UTC), answer-time percentiles, feedback counts."""
    now = now or utc_now()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    with factory() as session:
        total = session.scalar(select(func.count(QueryLog.id))) or 0
        today = (
            session.scalar(select(func.count(QueryLog.id)).where(QueryLog.created_at >= midnight))
            or 0
        )
        latencies = list(
            session.scalars(
                select(QueryLog.latency_ms).order_by(QueryLog.id.desc()).limit(LATENCY_WINDOW)
            )
        )
        votes: dict[bool, int] = {
            helpful: count
            for helpful, count in session.execute(
                select(Feedback.helpful, func.count()).group_by(Feedback.helpful)
            )
        }
    median, p95 = percentiles(latencies)
    return UsageStats(today, total, median, p95, votes.get(True, 0), votes.get(False, 0))


def percentiles(values: list[int] | list[float]) -> tuple[float | None, float | None]:
    """Median and 95th percentile (inclusive method), None for no data."""
    if not values:
        return None, None
    if len(values) == 1:
        return float(values[0]), float(values[0])
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    return float(statistics.median(values)), float(cuts[18])


class QuestionStore:
    """Question text by short id: an in-memory LRU in front of the QueryLog table."""

    def __init__(self, factory: sessionmaker[Session] | None = None, size: int = 2048) -> None:
        self.factory = factory
        self._size = size
        self._items: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, question_id: str, question: str) -> None:
        with self._lock:
            self._items[question_id] = question
            self._items.move_to_end(question_id)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def get(self, question_id: str) -> str | None:
        """The question, from memory or else the database (blocking on a miss)."""
        with self._lock:
            question = self._items.get(question_id)
            if question is not None:
                self._items.move_to_end(question_id)
                return question
        if self.factory is None:
            return None
        question = find_question(self.factory, question_id)
        if question is not None:
            self.put(question_id, question)
        return question
