"""Questions asking for the latest news, with the real model, real SQLite and each index backend:
three oil stories of different days answer the same question; the newest relevant comes first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from corpus.ingest import ArticleRecord
from retrieval import search
from retrieval.library import Library
from retrieval.query import Query
from retrieval.recency import detect
from tests.conftest import BACKENDS, library_settings
from tests.fakes import memory_backend  # noqa: F401 - registers the "memory" backend
from tests.test_library import OIL

pytestmark = pytest.mark.slow

OIL_FALLS = (
    "تراجعت أسعار النفط يوم الأحد، وهبط خام برنت إلى 48.6 دولار للبرميل متأثرا بزيادة "
    "الإمدادات من دول منظمة أوبك وتوقعات ضعف الطلب في الصين. وقال محللون إن السوق تترقب "
    "بيانات المخزونات الأمريكية هذا الأسبوع، فيما انخفض الخام الأمريكي الخفيف إلى 43.9 دولار "
    "للبرميل."
)
OIL_RISES = (
    "واصلت أسعار النفط ارتفاعها للجلسة الثالثة، وصعد مزيج برنت إلى 55.2 دولار للبرميل بعد "
    "أن أظهرت بيانات رسمية تراجع المخزونات الأمريكية من الخام أكثر من المتوقع. وارتفع الخام "
    "الأمريكي إلى 49.1 دولار للبرميل."
)
FOOTBALL = (
    "أعلن نادي الهلال تعاقده مع المدافع البرازيلي لمدة ثلاثة مواسم، بعد اجتياز اللاعب الفحص "
    "الطبي في الرياض. وقال رئيس النادي إن الصفقة تدعم خط الدفاع قبل انطلاق الدوري."
)
WEATHER = (
    "توقعت الرئاسة العامة للأرصاد وحماية البيئة هطول أمطار رعدية على مرتفعات جازان وعسير "
    "والباحة، مع رياح نشطة مثيرة للأتربة والغبار على المناطق الشرقية والوسطى."
)


def _at(day: int, month: int = 8) -> datetime:
    return datetime(2015, month, day, 9, 0, tzinfo=UTC)


ARTICLES = [
    ArticleRecord("النفط يرتفع فوق 50 دولارا", OIL, "الوئام", "http://a/1", _at(1)),
    ArticleRecord("برنت يهبط إلى 48 دولارا", OIL_FALLS, "الاقتصادية", "http://b/2", _at(9)),
    ArticleRecord("النفط يواصل الارتفاع", OIL_RISES, "الرياض", "http://c/3", _at(25, 7)),
    ArticleRecord("الهلال يتعاقد مع مدافع برازيلي", FOOTBALL, "سبق", "http://d/4", _at(11)),
    ArticleRecord("أمطار رعدية على جازان", WEATHER, "عكاظ", "http://e/5", _at(10)),
    ArticleRecord("بلا تاريخ", "نص قصير عن أسعار النفط في السوق بلا تاريخ نشر."),
]
OIL_BY_AGE = ["برنت يهبط إلى 48 دولارا", "النفط يرتفع فوق 50 دولارا", "النفط يواصل الارتفاع"]
UNDATED = "بلا تاريخ"  # relevant too: after the dated ones


@pytest.fixture(scope="module", params=BACKENDS)
def library(request, tmp_path_factory, real_encoder):
    settings = library_settings(request, tmp_path_factory.mktemp("recent"), request.param)
    lib = Library.open(settings, encoder=real_encoder)
    lib.add_articles(ARTICLES)
    lib.build()
    return lib


@pytest.fixture()
def live(library):
    """The library as if its newest article had come in an hour ago."""
    library.retriever.clock = lambda: _at(11) + timedelta(hours=1)
    yield library
    library.retriever.clock = search.utc_now


def ask(library: Library, question: str, k: int = 5, **kw: object) -> list[str]:
    recency = detect(question)
    assert recency is not None
    query = Query(question, k, recency=recency, **kw)  # type: ignore[arg-type]
    [hits] = library.search_many([query])
    assert isinstance(hits, list)
    return [h.title for h in hits if h.relevance is None or h.relevance >= 0.5]


def test_the_newest_relevant_article_comes_first(library):
    best = [h.title for h in library.search("ما سعر برميل النفط؟", 3)]
    assert best[0] != OIL_BY_AGE[0]  # without a recency cue the closest answer leads
    assert ask(library, "ما آخر أخبار أسعار النفط؟") == [*OIL_BY_AGE, UNDATED]


def test_a_window_puts_its_articles_first_then_the_newest_others(library):
    # an archive: "today" is 11 August, the newest article's day; last week 29 July - 4 August
    assert ask(library, "ما أخبار النفط الأسبوع الماضي؟") == [
        "النفط يرتفع فوق 50 دولارا",
        "برنت يهبط إلى 48 دولارا",
        "النفط يواصل الارتفاع",
        UNDATED,
    ]


def test_pages_of_a_recency_question_follow_one_order(library):
    recency = detect("ما آخر أخبار أسعار النفط؟")
    first, second = library.search_many(
        [
            Query("ما آخر أخبار أسعار النفط؟", 2, recency=recency),
            Query("ما آخر أخبار أسعار النفط؟", 2, offset=2, recency=recency),
        ]
    )
    assert isinstance(first, list) and isinstance(second, list)
    assert [h.title for h in first] == OIL_BY_AGE[:2] and [h.rank for h in first] == [1, 2]
    assert [h.title for h in second][:1] == OIL_BY_AGE[2:] and second[0].rank == 3
    assert first[0].answer_span is not None  # shown hits get their answer sentence


def test_the_newest_articles_are_found_beyond_the_most_similar(library, monkeypatch):
    # the topic's own candidates hold one article only; the others come from the newest
    # articles the model scores
    monkeypatch.setattr(search, "RECENT_CANDIDATES", 1)
    monkeypatch.setattr(search, "RECENT_POOL", 1)
    assert ask(library, "ما آخر أخبار أسعار النفط؟")[:2] == OIL_BY_AGE[:2]


def test_without_a_topic_the_newest_articles(library):
    newest = ["الهلال يتعاقد مع مدافع برازيلي", "أمطار رعدية على جازان", "برنت يهبط إلى 48 دولارا"]
    assert ask(library, "ما آخر الأخبار؟", 3) == newest
    assert ask(library, "ماذا حدث أمس؟", 2) == ["أمطار رعدية على جازان", newest[0]]
    assert [h.title for h in library.latest(k=3)] == newest


def test_latest_about_a_topic_lists_only_relevant_articles(library):
    assert [h.title for h in library.latest("النفط")] == [*OIL_BY_AGE, UNDATED]
    assert [h.title for h in library.latest("أخبار النفط", 1)] == OIL_BY_AGE[:1]


def test_an_archive_is_dated_by_its_newest_article_a_live_corpus_by_now(library, live):
    assert library.reference_time() == _at(11) + timedelta(hours=1)
    library.retriever.clock = lambda: datetime(2026, 12, 5, tzinfo=UTC)
    assert library.reference_time() == _at(11)
    # live again: nothing about oil today, so the newest oil articles, newest first
    library.retriever.clock = lambda: _at(11) + timedelta(hours=1)
    assert ask(library, "أسعار النفط اليوم") == [*OIL_BY_AGE, UNDATED]


def test_new_articles_are_judged_against_followed_topics(library):
    ids = {h.title: h.article_id for h in library.latest(None, 10)}
    matched = library.match_topics(["أسعار النفط", "نادي الهلال", "   "], list(ids.values()))
    assert set(matched) == {"أسعار النفط", "نادي الهلال"}  # nothing to search in a blank topic
    oil = matched["أسعار النفط"]
    assert len(oil) == len(ids)  # every article judged once, by its best passage
    assert {m.hit.title for m in oil[:3]} == set(OIL_BY_AGE)  # the articles about oil prices
    assert [m.relevance for m in oil] == sorted((m.relevance for m in oil), reverse=True)
    assert all(m.hit.sentences for m in oil)  # shown hits: an alert is cut from their sentences
    football = matched["نادي الهلال"]
    assert football[0].hit.title == "الهلال يتعاقد مع مدافع برازيلي"
    assert min(m.relevance for m in oil[:3]) > 0.9 > max(m.relevance for m in oil[3:])
    assert football[0].relevance > 0.5 > football[1].relevance
