"""Replies about the newest news: ages in Arabic, the headers of live and archived corpora, the
/latest list, and the answer path (a fake search behind the real queue)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from telegram import InlineKeyboardMarkup

from bot import answers, messages
from bot.answers import compose_answer, compose_latest
from bot.format import NBSP
from bot.ratelimit import RateLimiter
from bot.recent import Dating, age, answer_header, format_latest, period
from bot.records import create_tables
from bot.searches import SearchQueue
from bot.settings import Settings
from bot.state import BotState
from corpus.store import create_db_engine, init_db
from retrieval.errors import RetrievalError
from retrieval.query import Query
from retrieval.recency import Recency, Window
from retrieval.types import Hit
from tests.test_bot_format import Gate, make_hit, visible

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)  # 12:00 in Riyadh
LIVE = Dating(NOW, archive=False)
ARCHIVE_END = datetime(2015, 8, 11, 18, 51, tzinfo=UTC)
ARCHIVE = Dating(ARCHIVE_END, archive=True)


@pytest.mark.parametrize(
    ("days", "said"),
    [
        (0, "اليوم"),
        (1, "أمس"),
        (2, "قبل يومين"),
        (3, "قبل 3 أيام"),
        (6, "قبل 6 أيام"),
        (7, "قبل أسبوع"),
        (14, "قبل أسبوعين"),
        (27, "قبل 3 أسابيع"),
        (30, "قبل شهر"),
        (65, "قبل شهرين"),
        (100, "قبل 3 أشهر"),
        (340, "قبل 11 شهراً"),
        (365, "قبل سنة"),
        (800, "قبل سنتين"),
        (4000, "قبل 10 سنوات"),
        (5000, "قبل 13 سنة"),
    ],
)
def test_ages_agree_with_their_numbers(days: int, said: str) -> None:
    assert age(days) == said.replace(" ", NBSP)  # an age never breaks across lines


def test_periods_are_named_as_questions_name_them() -> None:
    assert period(Window("day", 0, 1)) == "اليوم"
    assert period(Window("day", 7, 7)) == "الأسبوع الماضي"
    assert period(Window("month", 1, 1)) == "الشهر الماضي"
    assert period(Window("day", 0, 3)) == "آخر 3 أيام"
    assert period(Window("day", 0, 2)) == "آخر يومين"
    assert period(Window("hour", 0, 24)) == "آخر 24 ساعة"


def test_a_live_corpus_dates_from_now_an_archive_by_its_dates() -> None:
    yesterday = NOW - timedelta(days=1)
    assert LIVE.age(yesterday) == "أمس" and LIVE.age(None) is None
    assert LIVE.age(NOW - timedelta(days=3)) == f"قبل{NBSP}3{NBSP}أيام"
    assert ARCHIVE.age(ARCHIVE_END - timedelta(days=1)) is None  # its date says it
    assert Dating.of(Recency("النفط"), NOW, NOW + timedelta(seconds=1)).archive is False
    assert Dating.of(Recency("النفط"), ARCHIVE_END, NOW).archive is True


def _hits(*days_ago: int, reference: datetime = NOW) -> list[Hit]:
    return [
        make_hit(i + 1, published_at=reference - timedelta(days=d), title=f"خبر {i + 1}")
        for i, d in enumerate(days_ago)
    ]


def test_the_header_says_newest_first_what_the_window_lacked_and_where_an_archive_ends() -> None:
    assert answer_header(LIVE, _hits(0)) == "\u200f" + messages.RECENT_HEADER.format(end="")
    today = Dating(NOW, False, Window("day", 0, 1))
    assert answer_header(today, _hits(0)).endswith("الأحدث أولاً:")
    missed = answer_header(today, _hits(3))
    assert "في أخبار اليوم" in missed and missed.endswith("الأحدث أولاً:")
    archived = answer_header(ARCHIVE, _hits(1, reference=ARCHIVE_END))
    assert "أخباري تنتهي في 11\u00a0أغسطس\u00a02015" in archived


def test_a_recency_answer_gives_each_article_its_age_after_its_date() -> None:
    settings = Settings(top_k=3, min_relevance=0.5)
    hits = _hits(0, 1, 9)
    reply = compose_answer(settings, "abcdefghij", hits, offset=0, dating=LIVE)
    parsed = visible(reply.html)
    text = "".join(parsed.text).replace(NBSP, " ")
    assert reply.html.startswith("\u200f🕒")
    assert "(اليوم)" in text and "(أمس)" in text and "(قبل أسبوع)" in text
    assert reply.answered == 3
    plain = compose_answer(settings, "abcdefghij", hits, offset=0)
    assert "🕒" not in plain.html and "(أمس)" not in plain.html
    archived = compose_answer(settings, "abcdefghij", hits, offset=0, dating=ARCHIVE)
    assert "(اليوم)" not in archived.html and "أخباري تنتهي" in archived.html
    later = compose_answer(settings, "abcdefghij", hits, offset=3, dating=LIVE)
    assert "🕒" not in later.html and "(أمس)" in later.html  # a later page keeps its header


def test_the_latest_list() -> None:
    hits = _hits(0, 2, 40)
    html = format_latest(hits, LIVE, "النفط")
    parsed = visible(html)
    lines = html.split("\n")
    assert lines[0] == "\u200f🗞 أحدث الأخبار عن «النفط»:"
    assert len(lines) == 7 and all(line.startswith("\u200f") for line in lines)
    assert lines[3].startswith("\u200f<b>2.</b> <a href=")  # the title, then where and when
    assert lines[4] == f"\u200fبوابة الوسط، 3{NBSP}ديسمبر{NBSP}2026{NBSP}(قبل{NBSP}يومين)"
    assert len(parsed.links) == 3
    yesterday = Dating(NOW, False, Window("day", 1, 1))
    assert format_latest(_hits(1), yesterday).startswith("\u200f🗞 أخبار أمس:")
    assert format_latest(_hits(0), yesterday).startswith("\u200f🗞 لا شيء في أخبار أمس. الأحدث:")
    archived = format_latest(_hits(0, reference=ARCHIVE_END), ARCHIVE)
    assert "(أخباري تنتهي في" in archived.split("\n")[0] and "(اليوم)" not in archived


def test_the_latest_list_shows_relevant_articles_or_says_there_are_none() -> None:
    settings = Settings(min_relevance=0.5)
    hits = [*_hits(0, 1), make_hit(3, evidence=Gate(0.2), title="بعيد")]
    reply = compose_latest(settings, hits, LIVE, "النفط")
    assert reply.answered == 2 and "بعيد" not in reply.html
    assert isinstance(reply.markup, InlineKeyboardMarkup)
    assert [b.text for b in reply.markup.inline_keyboard[0]] == ["📄 1", "📄 2"]  # one row
    none = compose_latest(settings, hits[2:], LIVE, "النفط")
    assert none.answered == 0 and "«النفط»" in none.html and none.markup is None
    assert compose_latest(settings, [], LIVE).html == messages.INDEX_EMPTY


# --- the answer path ----------------------------------------------------------------------------
class FakeLibrary:
    def __init__(self, reference: datetime) -> None:
        self.reference = reference

    def reference_time(self) -> datetime:
        return self.reference


class RecordingSearch:
    """Returns `hits` for every query and keeps the queries it was given."""

    def __init__(self, hits: list[Hit]) -> None:
        self.hits = hits
        self.queries: list[Query] = []

    def __call__(self, queries: Sequence[Query]) -> list[list[Hit] | RetrievalError]:
        self.queries.extend(queries)
        return [list(self.hits) for _ in queries]


@pytest.fixture()
def state(tmp_path: Path) -> BotState:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    init_db(engine)
    state = BotState(Settings(top_k=3, min_relevance=0.5), RateLimiter(100))
    state.records = create_tables(engine)
    state.library = FakeLibrary(datetime.now(UTC))  # type: ignore[assignment]
    return state


def _run(state: BotState, search: RecordingSearch, call) -> list[tuple[str, object]]:
    sent: list[tuple[str, object]] = []

    async def send(html: str, markup: InlineKeyboardMarkup | None) -> None:
        sent.append((html, markup))

    async def main() -> None:
        state.searches = SearchQueue(search)
        try:
            await call(send)
        finally:
            await state.queue.close()

    asyncio.run(main())
    return sent


def test_a_question_for_the_latest_is_searched_as_such_and_dated(state: BotState) -> None:
    search = RecordingSearch(_hits(0, 3, reference=datetime.now(UTC)))
    question = "ما آخر أخبار النفط؟"
    sent = _run(state, search, lambda send: answers.answer(state, 1, "private", question, send))
    [query] = search.queries
    assert query.recency == Recency("النفط؟") and query.min_relevance == 0.5
    [(html, markup)] = sent
    assert html.startswith("\u200f🕒 الأحدث أولاً:") and "(قبل 3 أيام)" in html.replace(NBSP, " ")
    assert markup is not None


def test_a_plain_question_is_searched_as_before(state: BotState) -> None:
    search = RecordingSearch(_hits(0))
    question = "ما الذي اتفق عليه الجانبان؟"
    sent = _run(state, search, lambda send: answers.answer(state, 1, "private", question, send))
    assert search.queries[0].recency is None
    assert sent[0][0].startswith("\u200f" + messages.ANSWER_HEADER)


def test_a_question_for_the_news_of_a_day_lists_the_articles(state: BotState) -> None:
    state.library = FakeLibrary(ARCHIVE_END)  # type: ignore[assignment]
    hits = [replace_evidence(h) for h in _hits(1, 2, reference=ARCHIVE_END)]
    search = RecordingSearch(hits)
    sent = _run(
        state, search, lambda send: answers.answer(state, 1, "private", "ماذا حدث أمس؟", send)
    )
    [(html, markup)] = sent
    assert search.queries[0].recency == Recency("", Window("day", 1, 1))
    assert html.startswith("\u200f🗞 أخبار أمس (أخباري تنتهي في 11\u00a0أغسطس\u00a02015):")
    assert isinstance(markup, InlineKeyboardMarkup) and len(markup.inline_keyboard[0]) == 2


def test_latest_command_with_and_without_a_topic(state: BotState) -> None:
    search = RecordingSearch(_hits(0, 1, 2, 3, 4, 5, reference=datetime.now(UTC)))
    sent = _run(state, search, lambda send: answers.latest(state, 1, "  أخبار   النفط ", send))
    sent += _run(state, search, lambda send: answers.latest(state, 1, "", send))
    about, everything = search.queries
    assert about.recency == Recency("النفط") and about.k == 5
    assert everything.recency == Recency("") and everything.question == ""
    assert sent[0][0].startswith("\u200f🗞 أحدث الأخبار عن «النفط»:")
    assert sent[1][0].startswith("\u200f🗞 أحدث الأخبار:") and sent[1][0].count("<a href") == 5


def replace_evidence(hit: Hit) -> Hit:
    from dataclasses import replace

    return replace(hit, evidence=None, dense_score=None)  # the newest articles: no question
