"""Followed topics and alerts: the store (numbering, forged ids, the per-day cap, one alert per
article and chat), the alert fan-out with a boundary fake for Telegram, and what /feed shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy.orm import Session, sessionmaker
from telegram.error import Forbidden, NetworkError

from bot import followstore, messages
from bot.feeds import format_feed_list, format_poll_reports
from bot.follows import send_alerts
from bot.records import create_tables
from corpus.store import create_db_engine, init_db, make_session_factory
from retrieval.feeds import FeedPollReport, FeedView
from retrieval.types import TopicMatch
from tests.test_bot_format import Gate, make_hit, visible

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ISOLATES = dict.fromkeys(map(ord, "\u2066\u2067\u2068\u2069"))


def _text(html: str) -> str:
    """What the reader sees, without the invisible bidi isolates."""
    return "".join(visible(html).text).translate(ISOLATES)


@pytest.fixture
def db(tmp_path) -> sessionmaker[Session]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'bot.sqlite'}")  # shared by threads
    init_db(engine)
    create_tables(engine)
    return make_session_factory(engine)


def test_follows_are_numbered_per_chat_and_only_their_owner_stops_them(db) -> None:
    assert followstore.follow(db, 1, "أسعار النفط")
    assert not followstore.follow(db, 1, "أسعار النفط")  # already followed
    assert followstore.follow(db, 1, "كرة القدم") and followstore.follow(db, 2, "أسعار النفط")
    mine = followstore.following(db, 1)
    assert [(f.number, f.topic) for f in mine] == [(1, "أسعار النفط"), (2, "كرة القدم")]
    theirs = followstore.following(db, 2)[0]
    assert followstore.unfollow(db, 1, theirs.id) is None  # a forged id of another chat
    assert followstore.unfollow(db, 1, mine[0].id) == "أسعار النفط"
    assert followstore.unfollow(db, 1, mine[0].id) is None
    assert [f.number for f in followstore.following(db, 1)] == [1]  # renumbered
    assert followstore.forget_chat(db, 1) == 1 and followstore.following(db, 1) == []
    assert len(followstore.all_follows(db)) == 1


def test_an_article_is_claimed_once_per_chat_and_at_most_per_day(db) -> None:
    followstore.follow(db, 7, "النفط")
    followstore.follow(db, 7, "أسعار النفط")
    first, second = followstore.following(db, 7)
    assert followstore.claim_alert(db, first, 100, NOW, per_day=2)
    assert not followstore.claim_alert(db, second, 100, NOW, per_day=2)  # same article
    assert followstore.claim_alert(db, second, 101, NOW, per_day=2)
    assert not followstore.claim_alert(db, first, 102, NOW, per_day=2)  # cap reached
    assert followstore.claim_alert(db, first, 102, NOW + timedelta(hours=24, seconds=1), 2)
    # the alert outlives its follow
    assert followstore.unfollow(db, 7, first.id) == "النفط"
    assert not followstore.claim_alert(db, second, 102, NOW + timedelta(days=2), 2)


class FakeTelegram:
    """The Bot API boundary: records sends; chat 666 has blocked the bot."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []

    async def send_message(self, chat_id: int, text: str, **kw: object) -> None:
        if chat_id == 666:
            raise Forbidden("Forbidden: bot was blocked by the user")
        if chat_id == 500:
            raise NetworkError("timed out")
        visible(text)
        self.sent.append((chat_id, text))


class FakeLibrary:
    def __init__(self, matched: dict[str, list]) -> None:
        self.matched = matched

    def match_topics(self, topics, article_ids):
        return {t: hits for t, hits in self.matched.items() if t in topics}


@pytest.mark.asyncio
async def test_alerts_go_to_followers_above_the_threshold_and_blocked_chats_are_dropped(db):
    for chat in (1, 2, 666, 500):
        followstore.follow(db, chat, "النفط")
    followstore.follow(db, 3, "الرياضة")
    strong = make_hit(1, evidence=Gate(0.95), title="النفط يرتفع")
    weak = make_hit(2, evidence=Gate(0.40), title="خبر بعيد")
    aside = make_hit(3, evidence=Gate(0.97), title="خبر يذكر النفط عرضا")
    about, far, mention = TopicMatch(strong, 0.90), TopicMatch(weak, 0.80), TopicMatch(aside, 0.82)
    assert about.relevance >= 0.8 > mention.relevance  # one sure passage is not enough
    library = FakeLibrary({"النفط": [about, mention, far], "الرياضة": [far]})
    settings = SimpleNamespace(follow_min_relevance=0.8, follow_max_per_day=10)
    state = SimpleNamespace(db=db, lib=library, settings=settings)
    telegram = FakeTelegram()
    assert await send_alerts(state, telegram, [strong.article_id, weak.article_id]) == 2
    assert sorted(chat for chat, _ in telegram.sent) == [1, 2]
    assert all("النفط يرتفع" in text and "«النفط»" in text for _, text in telegram.sent)
    assert followstore.following(db, 666) == []  # blocked: its follows are gone
    assert len(followstore.following(db, 500)) == 1  # a network error is not a block
    # a second poll that sees the same article again sends nothing new
    assert await send_alerts(state, telegram, [strong.article_id]) == 0


def _view(**kw: object) -> FeedView:
    fields: dict[str, object] = {
        "id": 3,
        "url": "https://example.com/rss?a=1&b=2",
        "name": "الوئام <عاجل>",
        "added_at": NOW - timedelta(days=3),
        "polled_at": NOW - timedelta(hours=2),
        "ok_at": NOW - timedelta(hours=2),
        "last_error": None,
        "failures": 0,
        "next_poll_at": None,
        "items_seen": 50,
        "articles_added": 48,
        "etag": None,
        "last_modified": None,
    }
    fields.update(kw)
    return FeedView(**fields)  # type: ignore[arg-type]


def test_the_feed_list_shows_the_last_poll_counts_and_the_last_error() -> None:
    html = format_feed_list([_view()], NOW)
    text = _text(html)
    assert "الوئام <عاجل>" in text and "قبل ساعتين" in text and "50" in text and "48" in text
    broken = _view(
        last_error="HTTP 404 Not Found",
        failures=3,
        next_poll_at=NOW + timedelta(hours=1),
        polled_at=NOW - timedelta(minutes=1),
    )
    text = _text(format_feed_list([broken], NOW))
    assert "HTTP 404 Not Found" in text and "بعد ساعة" in text and "قبل دقيقة" in text
    assert "3" in text
    assert format_feed_list([], NOW) == messages.FEED_NONE
    never = _text(format_feed_list([_view(polled_at=None)], NOW))
    assert messages.FEED_NEVER in never


def test_poll_reports_name_each_outcome() -> None:
    reports = [
        FeedPollReport(1, "أ", entries=5, new=2, added=[10, 11], summaries=1),
        FeedPollReport(2, "ب", error="timed out after 10 s"),
        FeedPollReport(3, "ج", not_modified=True),
        FeedPollReport(4, "", busy=True),
        FeedPollReport(5, "د", entries=2, new=1, failed=[("https://x.test/a?b=1&c=2", "HTTP 404")]),
        FeedPollReport(6, "هـ", warning="not well-formed (invalid token): line 3"),
    ]
    text = _text(format_poll_reports(reports))
    for expected in ("timed out after 10 s", "HTTP 404", "line 3", "https://x.test/a?b=1&c=2"):
        assert expected in text
    assert messages.FEED_POLL_UNCHANGED.format(name="ج") in text
    assert messages.FEED_POLL_BUSY.format(name="4") in text
    assert messages.FEED_POLL_SUMMARIES.format(count=1) in text
