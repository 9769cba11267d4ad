"""Site boilerplate is dropped at ingest: by repetition within a source, and by form."""

from __future__ import annotations

from sqlalchemy import select

from corpus.boilerplate import MIN_ARTICLES, by_form, line_shape, strip_boilerplate
from corpus.ingest import ingest_records
from corpus.models import Article, Passage
from corpus.store import create_db_engine, init_db, make_session_factory
from corpus.types import ArticleRecord

STORIES = [
    ("أمطار غزيرة على مكة المكرمة", "هطلت أمطار غزيرة على مكة المكرمة مساء أمس وسط تحذيرات."),
    ("النفط يرتفع في الأسواق", "ارتفعت أسعار النفط اليوم بعد بيانات المخزون الأمريكية."),
    ("افتتاح معرض الكتاب", "افتتح أمير المنطقة معرض الكتاب بمشاركة ثلاثمائة دار نشر."),
    ("فوز الهلال على النصر", "فاز الهلال على النصر بهدفين دون رد في ديربي العاصمة."),
]


def share_line(title: str) -> str:
    return f"رابط الخبر بصحيفة الوئام: {title}"


def test_the_title_links_and_digits_are_abstracted_from_a_line_shape() -> None:
    a = line_shape(share_line("أمطار غزيرة على مكة المكرمة"), "أمطار غزيرة على مكة المكرمة")
    b = line_shape(share_line("النفط يرتفع في الأسواق"), "النفط يرتفع في الأسواق")
    assert a == b
    # digits are the story's: a daily figure is not a repeated line
    assert line_shape("أغلق المؤشر عند 6513 نقطة", "") != line_shape(
        "أغلق المؤشر عند 6520 نقطة", ""
    )
    assert line_shape("راسلوني على a.b@x.com", "") == line_shape("راسلوني على c@y.org", "")


def test_boilerplate_by_form() -> None:
    assert by_form("habutalib@hotmail.com")
    assert by_form("للتواصل أرسل sms إلى 88548 الاتصالات، 636250 موبايلي")
    assert by_form("للتواصل مع الكاتب ارسل رسالة SMS")
    assert by_form("اقرأ أيضاً: الهلال يتعاقد مع مهاجم جديد")
    assert by_form("https://sabq.org/x")
    # prose that mentions contacts, links or reading is kept
    assert not by_form("وأكد المتحدث أن للتواصل مع الجهات المعنية أهمية كبيرة في المرحلة المقبلة.")
    assert not by_form("نشرت الوزارة بيانها على موقعها www.moh.gov.sa صباح اليوم لطمأنة الأهالي.")
    assert not by_form("قرأ الطلاب أيضا كتبا كثيرة في المعرض.")


def test_strip_removes_repeated_lines_glued_bars_and_tags_and_keeps_the_story() -> None:
    body = (
        "شارك من خلال تويتر فيسبوك جوجل بلس اكتب رأيك ارتفعت أسعار النفط اليوم.\n\n"
        "وقال محللون إن الطلب قوي. سمات النفط أسعار برنت\n\n" + share_line("النفط يرتفع")
    )
    repeated = {line_shape(share_line("النفط يرتفع"), "النفط يرتفع")}
    stripped = strip_boilerplate(body, "النفط يرتفع", repeated.__contains__)
    assert stripped.body == "ارتفعت أسعار النفط اليوم.\n\nوقال محللون إن الطلب قوي."
    assert len(stripped.removed) == 3
    # nothing but boilerplate: the body is kept whole rather than emptied
    only = strip_boilerplate("habutalib@hotmail.com", "", lambda shape: False)
    assert only.body == "habutalib@hotmail.com" and not only.removed


def test_ingest_drops_a_line_repeated_across_a_sources_articles(tmp_path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'c.db'}")
    init_db(engine)
    records = [
        ArticleRecord(
            title=title,
            body=f"{text}\n\n{share_line(title)}",
            source="الوئام",
            external_id=f"w{i}",
        )
        for i, (title, text) in enumerate(STORIES)
    ]
    # the same kind of line in another outlet's single article is that article's text
    records.append(
        ArticleRecord(
            title="خبر آخر",
            body="نص الخبر الآخر كاملا.\n\nرابط الخبر بصحيفة الوئام: خبر آخر",
            source="سبق",
            external_id="s1",
        )
    )
    with make_session_factory(engine)() as session:
        report = ingest_records(session, records)
        assert report.boilerplate_lines == len(STORIES) >= MIN_ARTICLES
        bodies = dict(session.execute(select(Article.external_id, Article.body)).all())
        passages = list(session.scalars(select(Passage.text)))
        again = ingest_records(session, records)  # unchanged: counted once, still clean
        assert len(again.unchanged) == len(records) and again.boilerplate_lines == 0
    for i, (_, text) in enumerate(STORIES):
        assert bodies[f"w{i}"] == text
    assert "رابط الخبر" in bodies["s1"]
    assert sum("رابط الخبر" in p for p in passages) == 1


def test_an_article_updated_many_times_keeps_its_own_lines(tmp_path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'c.db'}")
    init_db(engine)
    story = "هطلت أمطار غزيرة على مكة.\n\nوحذر الدفاع المدني من السيول.\n\nوأغلقت المدارس."
    with make_session_factory(engine)() as session:
        for version in range(5):
            record = ArticleRecord(
                title="أمطار مكة",
                body=f"{story}\n\nتحديث رقم {version}.",
                source="سبق",
                url="https://sabq.org/rain",
            )
            report = ingest_records(session, [record])
            assert report.boilerplate_lines == 0, version
        [body] = session.scalars(select(Article.body)).all()
    assert body.startswith(story)


def test_daily_reports_keep_their_figures(tmp_path) -> None:
    """Lines that differ only in their numbers are each day's news, not the site's."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'c.db'}")
    init_db(engine)
    records = [
        ArticleRecord(
            title=f"الأسهم السعودية يوم {day}",
            body=f"أغلق مؤشر السوق عند {6500 + day * 7}.15 نقطة.\n\n"
            f"وبلغت قيمة التداولات {day + 3} مليارات ريال.\n\n// انتهى // 1{day}:0{day} ت م",
            source="واس",
            external_id=f"d{day}",
        )
        for day in range(1, 6)
    ]
    with make_session_factory(engine)() as session:
        report = ingest_records(session, records)
        bodies = list(session.scalars(select(Article.body)))
    assert report.boilerplate_lines == 5  # the wire marks only
    assert all("أغلق مؤشر السوق عند" in b and "قيمة التداولات" in b for b in bodies)
    assert not any("انتهى" in b for b in bodies)


def test_sentences_that_only_mention_contacts_are_kept() -> None:
    assert not by_form("أطلقت شركة الاتصالات خدمة SMS جديدة للمشتركين مقابل 5 ريالات.")
    assert not by_form("للتواصل مع المتضررين خصصت الإمارة الرقم 940 على مدار الساعة.")
    assert not by_form("تابعوا الدوري السعودي حيث سجل الهلال 3 أهداف في الشوط الثاني.")
    assert by_form("// يتبع // 11:02 ت م") and by_form("18:07 ت م") and by_form("// انتهى //")
