"""The bot's database records: query log, feedback, admin actions, the question store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.records import (
    AdminAction,
    Feedback,
    QueryLog,
    QueryRecord,
    QuestionStore,
    create_tables,
    log_queries,
    percentiles,
    record_admin_action,
    record_feedback,
    usage_stats,
)
from corpus.store import create_db_engine, init_db, make_session_factory


@pytest.fixture
def factory() -> sessionmaker[Session]:
    engine = create_db_engine("sqlite://")
    init_db(engine)
    create_tables(engine)
    create_tables(engine)  # idempotent
    return make_session_factory(engine)


def record(question_id: str, latency_ms: int, question: str = "ما الخبر؟") -> QueryRecord:
    return QueryRecord(question_id, "h" * 64, "private", question, False, 3, 0.87, latency_ms)


def test_query_log_and_usage_stats(factory: sessionmaker[Session]) -> None:
    for i, latency in enumerate([100, 200, 300, 400, 10_000]):
        log_queries(factory, [record(f"q{i:09d}", latency)])
    with factory() as session:
        row = session.scalars(select(QueryLog).order_by(QueryLog.id)).first()
        assert (
            row is not None and row.user_hash == "h" * 64 and row.question_chars == len("ما الخبر؟")
        )
        old = session.get(QueryLog, 1)
        assert old is not None
        old.created_at = datetime.now(UTC) - timedelta(days=2)
        session.commit()
    record_feedback(factory, "q000000000", "u1", True)
    record_feedback(factory, "q000000000", "u1", False)  # changed their mind: one vote
    record_feedback(factory, "q000000000", "u2", True)
    stats = usage_stats(factory)
    assert (stats.questions_total, stats.questions_today) == (5, 4)
    assert stats.median_ms == 300
    assert stats.p95_ms is not None and 400 < stats.p95_ms <= 10_000
    assert (stats.helpful, stats.unhelpful) == (1, 1)
    with factory() as session:
        assert len(session.scalars(select(Feedback)).all()) == 2


def test_percentiles() -> None:
    assert percentiles([]) == (None, None)
    assert percentiles([5]) == (5.0, 5.0)
    median, p95 = percentiles(list(range(1, 101)))
    assert median == 50.5 and p95 == pytest.approx(95.05)


def test_question_store_falls_back_to_the_log(factory: sessionmaker[Session]) -> None:
    store = QuestionStore(factory, size=2)
    store.put("a000000000", "أ")
    store.put("b000000000", "ب")
    store.put("c000000000", "ج")  # evicts a
    assert store.get("a000000000") is None
    log_queries(factory, [record("a000000000", 5, question="سؤال محفوظ")])
    assert store.get("a000000000") == "سؤال محفوظ"
    assert store.get("c000000000") == "ج"
    assert QuestionStore(None).get("zzzzzzzzzz") is None


def test_admin_actions_are_recorded(factory: sessionmaker[Session]) -> None:
    record_admin_action(factory, "h" * 64, "delete", "12", True)
    with factory() as session:
        action = session.scalars(select(AdminAction)).one()
    assert (action.action, action.detail, action.ok) == ("delete", "12", True)


def test_simultaneous_votes_of_one_user_never_fail(tmp_path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    engine = create_db_engine(f"sqlite:///{tmp_path / 'votes.db'}")
    init_db(engine)
    create_tables(engine)
    factory = make_session_factory(engine)
    with ThreadPoolExecutor(max_workers=2) as pool:
        for n in range(60):
            votes = [
                pool.submit(record_feedback, factory, f"q{n}", "u" * 64, helpful)
                for helpful in (True, False)
            ]
            for vote in votes:
                vote.result()  # raises if a vote failed
    with factory() as session:
        assert len(session.scalars(select(Feedback)).all()) == 60


def _file_factory(path) -> sessionmaker[Session]:
    engine = create_db_engine(f"sqlite:///{path}")
    init_db(engine)
    create_tables(engine)
    return make_session_factory(engine)


@pytest.mark.asyncio
async def test_query_log_writer_groups_a_burst_into_few_transactions(tmp_path, monkeypatch):
    import bot.records as records

    factory = _file_factory(tmp_path / "bot.db")
    transactions: list[int] = []
    write = records.log_queries

    def counted(factory, batch):
        transactions.append(len(batch))
        write(factory, batch)

    monkeypatch.setattr(records, "log_queries", counted)
    writer = records.QueryLogWriter(factory)
    writer.add(record("a000000000", 5))  # alone: written at once, in its own transaction
    await writer.flush()
    assert transactions == [1]
    for i in range(50):  # a burst: all arrive while the first is being written
        writer.add(record(f"b{i:09d}", 5))
    await writer.flush()
    assert sum(transactions) == 51 and len(transactions) <= 3, transactions
    with factory() as session:
        ids = session.scalars(select(QueryLog.question_id)).all()
    assert sorted(ids) == ["a000000000"] + [f"b{i:09d}" for i in range(50)]


@pytest.mark.asyncio
async def test_query_log_writer_survives_an_outage(tmp_path, monkeypatch, caplog):
    from sqlalchemy.exc import OperationalError

    import bot.records as records

    factory = _file_factory(tmp_path / "bot.db")
    write = records.log_queries
    failing = [True]

    def flaky(factory, batch):
        if failing.pop() if failing else False:
            raise OperationalError("INSERT", {}, Exception("database is down"))
        write(factory, batch)

    monkeypatch.setattr(records, "log_queries", flaky)
    writer = records.QueryLogWriter(factory)
    writer.add(record("lost000000", 5))
    await writer.flush()
    assert "questions not recorded, the database failed" in caplog.text
    writer.add(record("kept000000", 5))  # the database is back: the writer still works
    await writer.flush()
    with factory() as session:
        assert session.scalars(select(QueryLog.question_id)).all() == ["kept000000"]
