"""Library behaviour that needs no real model: folding duplicates, staleness, delete, swap."""

from __future__ import annotations

from datetime import datetime

import pytest

from corpus.ingest import ArticleRecord
from retrieval.library import Library
from retrieval.settings import LibrarySettings
from tests.conftest import library_settings
from tests.test_dedupe import OTHER, REPRINT, WAS


@pytest.fixture()
def library(request, tmp_path, fake_encoder, backend):
    settings = library_settings(request, tmp_path, backend)
    if backend == "pgvector":
        fake_encoder.dim = 384  # the vector column's dimension
    lib = Library.open(settings, encoder=fake_encoder)
    lib.add_articles(
        [
            ArticleRecord(
                "بيان مشترك",
                WAS,
                source="الرياض",
                url="http://a/1",
                published_at=datetime(2015, 8, 1),
            )
        ]
    )
    lib.add_articles([ArticleRecord("السعودية والأردن", REPRINT, source="سبق", url="http://b/2")])
    lib.add_articles([ArticleRecord("البصرة", OTHER, source="الشرق الأوسط")])
    lib.build()
    return lib


def test_reprinted_story_is_one_result_listing_both_outlets(library):
    hits = library.search("وحدة العراق وإشراك مكونات شعبه في العملية السياسية", 5)
    folded = [h for h in hits if h.also_in]
    assert len(folded) == 1
    sources = {folded[0].source} | {ref.source for ref in folded[0].also_in}
    assert sources == {"الرياض", "سبق"}
    assert len(hits) == 2  # the reprint does not take a result of its own


def test_stale_after_ingest_and_fresh_after_build(library):
    assert not library.is_stale()
    library.add_articles([ArticleRecord("جديد", "خبر جديد عن الطقس في الرياض اليوم")])
    assert library.is_stale()
    report = library.build()
    assert report.embedded == 1 and not library.is_stale()
    assert library.stats().index_passages == 4


def test_deleted_article_disappears_from_results_at_once(library):
    hits = library.search("البصرة التعرفة الجمركية", 3)
    target = next(h for h in hits if h.title == "البصرة")
    assert library.delete_article(target.article_id)
    assert all(h.article_id != target.article_id for h in library.search("البصرة التعرفة", 3))
    assert not library.delete_article(target.article_id)


def test_uploaded_document_with_a_bad_line(library):
    data = '{"title": "خبر", "text": "نص"}\n{broken\n'.encode()
    report = library.ingest_document("upload.jsonl", data)
    assert len(report.added) == 1
    assert [p.line for p in report.problems] == [2]


def test_a_corrupt_index_is_rebuilt_by_prepare(library, tmp_path, fake_encoder, backend, capsys):
    if backend == "pgvector":
        pytest.skip("index files only: PostgreSQL keeps its own (tests/test_pgvector.py)")
    from retrieval.cli import prepare
    from retrieval.errors import IndexCorrupt

    folder = tmp_path / "index" / "generations" / library.index.current_name()
    (folder / "catalog.sqlite").write_bytes(b"garbage" * 1000)
    settings = LibrarySettings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        index_dir=tmp_path / "index",
        index_backend=backend,
    )
    broken = Library.open(settings, encoder=fake_encoder)
    assert isinstance(broken.load_error, IndexCorrupt)
    with pytest.raises(IndexCorrupt):
        broken.search("البصرة", 3)
    repaired = prepare(settings, encoder=fake_encoder)
    assert "rebuilding the index" in capsys.readouterr().err
    assert repaired.search("البصرة التعرفة الجمركية", 1)[0].title == "البصرة"


OIL = (
    "تعافى النفط إلى أعلى قليلا من 50 دولارا للبرميل اليوم الثلاثاء بعدما لامس أدنى مستوياته في "
    "ستة أشهر في الجلسة السابقة رغم أن ارتفاع الإنتاج العالمي والقلق بشأن الآفاق الاقتصادية في "
    "الصين أثرا سلبا على التوقعات.\n"
    "وبحلول الساعة 0955 بتوقيت جرينتش زاد خام القياس العالمي مزيج برنت 79 سنتا إلى 50.31 دولار "
    "للبرميل وارتفع الخام الأمريكي الخفيف 75 سنتا إلى 45.92 دولار. وهبط برنت إلى 49.36 دولار "
    "أثناء الجلسة أمس مسجلا أدنى مستوياته منذ 30 يناير.\n"
    "وأظهر مسح لرويترز أن دول منظمة أوبك سجلت أعلى إنتاج شهري في التاريخ الحديث في يوليو وأدى "
    "اتفاق إيران النووي مع القوى العالمية إلى تنامي التوقعات بزيادة الإمدادات النفطية."
)


def test_a_story_reprinted_with_spelling_changes_is_one_result(library):
    # The example of the issue: «هل تجاوز سعر برنت 50 دولارا للبرميل؟» showed one oil story as
    # answers 1 and 2, printed by two outlets with a few spelling changes.
    reprint = OIL.replace("أ", "ا").replace("ة ", "ه ").replace("إلى", "الى")
    library.add_articles(
        [
            ArticleRecord("النفط يرتفع فوق 50 دولارا", OIL, source="الوئام", url="http://c/1"),
            ArticleRecord("النفط يتعافى", reprint, source="الاقتصادية", url="http://d/2"),
        ]
    )
    library.build()
    hits = library.search("هل تجاوز سعر برنت 50 دولارا للبرميل؟", 3)
    oil = [h for h in hits if "النفط" in h.title]
    assert len(oil) == 1
    assert {oil[0].source, *(ref.source for ref in oil[0].also_in)} == {"الوئام", "الاقتصادية"}
