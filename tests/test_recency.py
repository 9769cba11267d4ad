"""retrieval.recency: which questions ask for the newest news, their windows and topics, the
reference time of a corpus, and the newest-first order of relevant hits."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from retrieval.recency import (
    ARCHIVE_AFTER,
    NEWS_ZONE,
    Recency,
    Window,
    about,
    age_in_days,
    detect,
    newest_first,
    reference_time,
)
from tests.test_bot_format import Gate, make_hit

LATEST = "latest"  # a recency question without a window
TODAY, YESTERDAY = Window("day", 0, 1), Window("day", 1, 1)
THIS_WEEK, LAST_WEEK = Window("day", 0, 7), Window("day", 7, 7)

# Questions as people type them to a news bot: Gulf, Levantine and Egyptian words, no hamzas,
# full diacritics, Eastern digits; and questions whose «آخر»/«اليوم»/«العام» ask for no recency.
POSITIVE: list[tuple[str, Window | str]] = [
    ("ما آخر أخبار النفط؟", LATEST),
    ("آخر الأخبار عن الهلال", LATEST),
    ("أحدث التطورات في اليمن", LATEST),
    ("ما هي آخر المستجدات بشأن الهجرة غير الشرعية؟", LATEST),
    ("ما اخر اخبار الحج", LATEST),
    ("مَا آخِرُ أَخْبَارِ سُوقِ الأَسْهُمِ؟", LATEST),
    ("ما الجديد في قضية الطفل الفلسطيني؟", LATEST),
    ("هل من جديد بشأن انتقال والكوت؟", LATEST),
    ("ما هي آخر تصريحات وزير الداخلية؟", LATEST),
    ("من هو آخر لاعب انضم إلى النصر؟", LATEST),
    ("ما نتيجة آخر مباراة للأهلي؟", LATEST),
    ("ما الذي أعلنته وزارة الصحة مؤخراً عن كورونا؟", LATEST),
    ("كم عدد الإصابات بكورونا حتى الآن؟", LATEST),
    ("ما الوضع في تعز الآن", LATEST),
    ("ماذا حدث في الآونة الأخيرة في العراق", LATEST),
    ("أحدث ما نشر عن ميزانية 2016", LATEST),
    ("ما أخبار سعر الذهب هذه الأيام؟", LATEST),
    ("ما التطورات الأخيرة في ملف الحوثيين؟", LATEST),
    ("اعطني آخر الأخبار", LATEST),
    ("هل ارتفع النفط في الساعات الأخيرة؟", LATEST),
    ("ما أخبار فريق الشباب؟", LATEST),
    ("ايش سعر برميل النفط الحين؟", LATEST),
    ("وآخر أخبار الدوري؟", LATEST),
    ("ماذا حدث اليوم في الرياض؟", TODAY),
    ("اخبار اليوم", TODAY),
    ("أسعار النفط اليوم", TODAY),
    ("كم سعر برنت اليوم الثلاثاء؟", TODAY),
    ("كيف أغلقت الأسهم اليوم؟", TODAY),
    ("أخبار النصر النهارده", TODAY),
    ("ماذا قال الوزير صباح اليوم عن الميزانية؟", TODAY),
    ("ما آخر أخبار النفط اليوم؟", TODAY),
    ("ماذا قال وزير الخارجية أمس؟", YESTERDAY),
    ("ما الذي جرى بالأمس في صنعاء", YESTERDAY),
    ("شو صار البارحة بمباراة الهلال", YESTERDAY),
    ("ايش صار امبارح في جدة", YESTERDAY),
    ("ماذا حدث أول أمس في الطائف؟", Window("day", 2, 1)),
    ("أخبار الاتحاد هذا الأسبوع", THIS_WEEK),
    ("أخبار هالأسبوع عن الدوري", THIS_WEEK),
    ("ما أبرز ما حدث الأسبوع الماضي في سوق الأسهم؟", LAST_WEEK),
    ("ماذا حدث خلال الأسبوع الماضي في غزة", THIS_WEEK),
    ("كم عدد الإصابات بكورونا هذا الشهر؟", Window("month", 0, 1)),
    ("ما القرارات التي أصدرها مجلس الوزراء الشهر الماضي؟", Window("month", 1, 1)),
    ("كم بلغت أرباح سابك هذا العام؟", Window("year", 0, 1)),
    ("وش أحسن جوال هالسنة؟", Window("year", 0, 1)),
    ("ما حجم الصادرات السعودية في العام الماضي", Window("year", 1, 1)),
    ("أخبار السياحة في السنة الماضية", Window("year", 1, 1)),
    ("أخبار الهلال في آخر 3 أيام", Window("day", 0, 3)),
    ("آخر ٣ أيام في سوق الأسهم", Window("day", 0, 3)),
    ("ما الذي حدث في الأيام الثلاثة الماضية في عدن؟", Window("day", 0, 3)),
    ("اخبار الطقس خلال الـ24 ساعة الماضية", Window("hour", 0, 24)),
    ("آخر يومين: ماذا جرى في تعز؟", Window("day", 0, 2)),
    ("أهم أحداث آخر أسبوعين في سوريا", Window("day", 0, 14)),
]
NEGATIVE: list[str] = [
    "من سجل الهدف في آخر دقيقة من المباراة؟",
    "ماذا حدث في آخر المباراة بين الهلال والنصر؟",
    "كم هدفاً سجل الفريق في الشوط الأخير؟",
    "هل تعاقد النادي مع لاعب آخر؟",
    "ما رأي آخرين في القرار؟",
    "من هو اللاعب الآخر الذي انضم للفريق؟",
    "ما الدول الأخرى التي أدانت الحادث؟",
    "متى يحتفل السعوديون باليوم الوطني؟",
    "ما موضوع اليوم العالمي للشباب؟",
    "ماذا يحدث في اليوم الأول من الحج؟",
    "ما الأحداث التي وقعت في اليوم السابع من الحرب؟",
    "ما الفرق بين اليوم الوطني ويوم التأسيس؟",
    "ما سبب تسمية صحيفة اليوم بهذا الاسم؟",
    "متى آخر موعد للتسجيل في الجامعة؟",
    "متى كانت آخر مرة فاز فيها الهلال بالدوري؟",
    "ما قصة الرجل الذي عاش آخر أيامه في المستشفى؟",
    "ماذا تعني عبارة حتى إشعار آخر؟",
    "كم ارتفعت الصادرات مقارنة بالعام الماضي؟",
    "ما رأي المدير العام السابق للشركة؟",
    "ما الذي أحدث ضجة في مجلس الشورى؟",
    "في أي يوم من الأسبوع تقام المباراة؟",
    "كم يوماً يستمر مهرجان الجنادرية؟",
    "متى ينتهي العام الدراسي؟",
    "ما هو الشهر الذي يبدأ فيه موسم الحج؟",
    "ما الذي اتفق عليه الجانبان بشأن الهجرة غير الشرعية؟",
    "كم سيغيب سامي خضيرة عن الملاعب؟",
    "هل هناك طرق أخرى لعلاج السكري؟",
    "ما أهم إنجازات الملك عبدالله؟",
    "كيف تطورت العلاقات السعودية الأمريكية عبر العقود؟",
    "من فاز بجائزة أفضل لاعب في العالم عام 2014؟",
    # «آخر» as "the last" of history, or an adjective: read as recency (measured misses)
    "ما اسم آخر سلالة ملكية في الصين؟",
    "يوجد تعريف آخر لتعداد السكان في العالم. ما هو؟",
]
KNOWN_MISSES = {NEGATIVE[-2], NEGATIVE[-1]}


def _outcome(question: str) -> Window | str | None:
    found = detect(question)
    if found is None:
        return None
    return found.window or LATEST


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        *POSITIVE,
        *(
            pytest.param(q, None, marks=pytest.mark.xfail(strict=True, reason="known miss"))
            if q in KNOWN_MISSES
            else (q, None)
            for q in NEGATIVE
        ),
    ],
)
def test_each_question(question: str, expected: Window | str | None) -> None:
    assert _outcome(question) == expected


def test_precision_and_recall_on_the_table() -> None:
    detected = [q for q, _ in POSITIVE if _outcome(q) is not None]
    false = [q for q in NEGATIVE if _outcome(q) is not None]
    precision = len(detected) / (len(detected) + len(false))
    recall = len(detected) / len(POSITIVE)
    assert len(POSITIVE) + len(NEGATIVE) >= 80
    assert set(false) == KNOWN_MISSES
    assert precision >= 0.95 and recall == 1.0, (precision, recall)


def _questions(path: Path) -> list[str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [q["question"] for a in data["data"] for p in a["paragraphs"] for q in p["qas"]]


def test_the_news_questions_ask_for_no_recency() -> None:
    # 153 hand-written questions about particular stories: none asks for the latest
    folder = Path(__file__).resolve().parent.parent / "benchmarks" / "data"
    questions = [
        q for name in ("train", "test") for q in _questions(folder / f"news-qa-{name}.json")
    ]
    assert len(questions) == 153
    assert [q for q in questions if detect(q)] == []


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("ما آخر أخبار النفط؟", "النفط؟"),
        ("ماذا حدث اليوم في الرياض؟", "الرياض؟"),
        ("ماذا قال وزير الخارجية أمس؟", "قال وزير الخارجية"),
        ("ما أخبار سعر الذهب هذه الأيام؟", "سعر الذهب"),
        ("كم بلغت أرباح سابك هذا العام؟", "بلغت أرباح سابك"),
        ("ماذا حدث خلال الأسبوع الماضي في غزة", "غزة"),
        ("اخبار الطقس خلال الـ24 ساعة الماضية", "الطقس"),
        ("ما آخر الأخبار؟", ""),
        ("شو صار اليوم؟", ""),
        ("اعطني آخر الأخبار", ""),
    ],
)
def test_the_topic_is_the_question_without_its_recency_words(question: str, topic: str) -> None:
    found = detect(question)
    assert found is not None and found.topic == topic


def test_latest_about_a_topic() -> None:
    assert about("النفط") == Recency("النفط")
    assert about("أخبار النفط") == Recency("النفط")
    assert about("النفط اليوم") == Recency("النفط", TODAY)
    assert about("") == Recency("")


AT = datetime(2015, 8, 11, 18, 51, tzinfo=UTC)  # 21:51 in Riyadh, a Tuesday


def _local(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEWS_ZONE)


@pytest.mark.parametrize(
    ("window", "start", "end"),
    [
        (TODAY, _local(2015, 8, 11), _local(2015, 8, 12)),
        (YESTERDAY, _local(2015, 8, 10), _local(2015, 8, 11)),
        (Window("day", 2, 1), _local(2015, 8, 9), _local(2015, 8, 10)),
        (THIS_WEEK, _local(2015, 8, 5), _local(2015, 8, 12)),
        (LAST_WEEK, _local(2015, 7, 29), _local(2015, 8, 5)),
        (Window("month", 0, 1), _local(2015, 8, 1), _local(2015, 9, 1)),
        (Window("month", 1, 1), _local(2015, 7, 1), _local(2015, 8, 1)),
        (Window("year", 0, 1), _local(2015, 1, 1), _local(2016, 1, 1)),
        (Window("year", 1, 1), _local(2014, 1, 1), _local(2015, 1, 1)),
        (Window("hour", 0, 24), AT - timedelta(hours=24), _local(2015, 8, 12)),
    ],
)
def test_window_spans(window: Window, start: datetime, end: datetime) -> None:
    assert window.span(AT) == (start, end)


def test_a_month_window_crosses_the_year() -> None:
    january = datetime(2016, 1, 15, tzinfo=UTC)
    assert Window("month", 1, 1).span(january) == (_local(2015, 12, 1), _local(2016, 1, 1))
    assert Window("month", 0, 3).span(january)[0] == _local(2015, 11, 1)


def test_today_is_the_newest_article_for_an_archive_and_now_for_a_live_corpus() -> None:
    now = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    archive = datetime(2015, 8, 11, 18, 51, tzinfo=UTC)
    assert reference_time(archive, now) == archive
    assert reference_time(now - timedelta(hours=5), now) == now
    assert reference_time(now - ARCHIVE_AFTER, now) == now
    assert reference_time(now - ARCHIVE_AFTER - timedelta(minutes=1), now) < now
    assert reference_time(None, now) == now  # nothing dated: nothing else to go by
    assert reference_time(now + timedelta(hours=1), now) == now  # a clock or zone error


def test_ages_are_calendar_days_in_the_news_zone() -> None:
    reference = datetime(2015, 8, 11, 6, 0, tzinfo=UTC)  # 09:00 in Riyadh
    assert age_in_days(datetime(2015, 8, 10, 22, 0, tzinfo=UTC), reference) == 0  # 01:00 local
    assert age_in_days(datetime(2015, 8, 10, 20, 0, tzinfo=UTC), reference) == 1  # 23:00 local
    assert age_in_days(datetime(2015, 7, 11, 12, 0, tzinfo=UTC), reference) == 31
    assert age_in_days(reference + timedelta(days=2), reference) == 0


def test_relevant_hits_come_newest_first_those_in_the_window_before_the_others() -> None:
    def hit(n: int, day: int | None, relevance: float) -> object:
        published = datetime(2015, 8, day, 12, tzinfo=UTC) if day else None
        return make_hit(n, published_at=published, evidence=Gate(relevance))

    hits = [
        hit(1, 3, 0.95),  # best, old
        hit(2, 10, 0.9),
        hit(3, 11, 0.2),  # newest, not relevant
        hit(4, None, 0.9),  # undated
        hit(5, 9, 0.6),
        hit(6, 11, 0.55),
        hit(7, 11, 0.9),  # the same day as 6, more relevant
    ]
    order = [h.passage_id for h in newest_first(hits, None, 0.5)]  # type: ignore[arg-type]
    assert order == [7, 6, 2, 5, 1, 4, 3]
    yesterday = YESTERDAY.span(AT)  # 10 August in Riyadh
    order = [h.passage_id for h in newest_first(hits, yesterday, 0.5)]  # type: ignore[arg-type]
    assert order == [2, 7, 6, 5, 1, 4, 3]
    lexical = [replace(h, evidence=None) for h in hits]  # type: ignore[type-var]
    assert [h.passage_id for h in newest_first(lexical, None, 0.5)] == [3, 6, 7, 2, 5, 1, 4]
