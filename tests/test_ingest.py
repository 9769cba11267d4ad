"""Parsing uploads and files, and idempotent ingest into a real SQLite database."""

from __future__ import annotations

import codecs
import gzip
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from corpus.ingest import (
    ArticleRecord,
    IngestProblem,
    ingest_paths,
    ingest_records,
    parse_document,
    read_paths,
    stream_paths,
)
from corpus.models import Article, Passage
from corpus.split import clean_text
from corpus.store import create_db_engine, init_db, make_session_factory

DATA = Path(__file__).resolve().parents[1] / "corpus" / "data"
DEMO = DATA / "saudinewsnet_demo200.jsonl"
SEED = DATA / "libya-malta-security.txt"
ARABIC = "قالت وزارة الصحة إن عدد الحالات انخفض هذا الأسبوع بشكل ملحوظ."


@pytest.fixture
def factory(tmp_path: Path) -> sessionmaker[Session]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'db' / 'corpus.sqlite3'}")
    init_db(engine)
    return make_session_factory(engine)


def jsonl(*rows: object) -> bytes:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows).encode()


def count(session: Session, model: type[Article] | type[Passage]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_parse_jsonl_keeps_good_lines_and_names_bad_ones() -> None:
    data = jsonl(
        {"id": 7, "title": "خبر أول", "text": ARABIC, "date": "2015-08-01T07:51:31"},
        '{"title": "مكسور", "text": "نص" ',
        {"id": "b", "title": "بلا نص", "text": "  \u200b "},
        ["ليس", "كائنا"],
        "",
        {"id": "c", "text": ARABIC},
        {"title": "تاريخ سيئ", "body": ARABIC, "published_at": "أمس", "source": "سبق"},
    )
    records, problems = parse_document("upload.jsonl", data)
    assert [(p.path, p.line) for p in problems] == [
        ("upload.jsonl", 2),
        ("upload.jsonl", 3),
        ("upload.jsonl", 4),
        ("upload.jsonl", 6),
        ("upload.jsonl", 7),
    ]
    assert problems[0].reason.startswith("invalid JSON (Expecting ")
    assert [p.reason for p in problems[1:]] == [
        "no text",
        "expected a JSON object, got list",
        "no title",
        "date 'أمس' not understood; stored without a date",
    ]
    # the line number is said once, where the problem is: "upload.jsonl:3: no text"
    assert str(problems[1]) == "upload.jsonl:3: no text"
    # the record with the unreadable date is kept (without a date), the others are skipped
    assert [p.skipped for p in problems] == [True, True, True, True, False]
    assert records == [
        ArticleRecord(
            title="خبر أول",
            body=ARABIC,
            published_at=datetime(2015, 8, 1, 7, 51, 31, tzinfo=UTC),
            external_id="7",
        ),
        ArticleRecord(title="تاريخ سيئ", body=ARABIC, source="سبق"),
    ]


def test_parse_encodings() -> None:
    text = f"العنوان\n\n{ARABIC}\n"
    expected = [ArticleRecord(title="العنوان", body=ARABIC)]
    for data in (
        text.encode("utf-8"),
        text.encode("utf-8-sig"),
        text.encode("utf-16"),  # with BOM
        codecs.BOM_UTF16_BE + "\r\n".join(text.split("\n")).encode("utf-16-be"),
    ):
        assert parse_document("a.txt", data) == (expected, [])
    # Arabic archives in legacy code pages are detected and decoded...
    for encoding in ("cp1256", "iso8859_6"):
        assert parse_document("old.txt", text.encode(encoding)) == (expected, [])
    # ...but text that is not Arabic in them, or not text at all, is still refused.
    unknown = "unknown encoding (not UTF-8, UTF-16, windows-1256 or ISO-8859-6)"
    for data in ("Café crème\n\nbody".encode("latin-1"), bytes(range(256)) * 4):
        assert parse_document("old.txt", data) == (
            [],
            [IngestProblem("old.txt", None, unknown)],
        )
    # UTF-16 without a BOM is rejected, not stored as text full of NULs.
    assert parse_document("a.txt", text.encode("utf-16-le"))[1][0].reason.startswith("unknown")


def test_parse_md_txt_json_gz_and_unsupported() -> None:
    md = parse_document("n.md", f"\n# عنوان الخبر\n\n{ARABIC}".encode())
    assert md == ([ArticleRecord(title="عنوان الخبر", body=ARABIC)], [])
    only_title = parse_document("t.txt", "عنوان فقط\n\n".encode())
    assert only_title == ([], [IngestProblem("t.txt", None, "no text")])
    for name in ("e.md", "e.txt", "e.json", "e.jsonl"):
        for empty in (b"", b"\n \n\t\n", "\ufeff".encode()):
            assert parse_document(name, empty) == ([], [IngestProblem(name, None, "empty file")])
    items = [{"title": "أ", "text": ARABIC}, {"title": "ب", "text": ARABIC, "url": "http://x/1"}]
    records, problems = parse_document("list.json", json.dumps(items).encode())
    assert [r.title for r in records] == ["أ", "ب"] and records[1].url == "http://x/1"
    assert problems == []
    gz_records, _ = parse_document("d.JSONL.GZ", gzip.compress(jsonl(*items)))
    assert gz_records == records
    assert parse_document("d.jsonl.gz", b"not gzip")[1][0].reason == "not a valid gzip file"
    records, problems = parse_document("report.pdf", b"%PDF")
    assert records == [] and problems[0].path == "report.pdf"
    assert problems[0].reason.startswith("unsupported file type .pdf")


def test_json_lines_split_at_newlines_only_and_an_empty_stream_is_reported(
    tmp_path: Path,
) -> None:
    # U+2028 is legal raw inside a JSON string; splitting there broke the record and shifted
    # the line numbers of every later problem.
    record = {"title": "فاصل", "text": ARABIC + "\u2028" + ARABIC}
    data = "\n".join([json.dumps(record, ensure_ascii=False), "{bad", '{"title": "ب"}']).encode()
    assert "\u2028".encode() in data  # raw, as JSON allows
    for records, problems in (
        parse_document("u.jsonl", data),
        _streamed(tmp_path / "u.jsonl", data),
    ):
        assert [r.title for r in records] == ["فاصل"]
        assert [(p.line, p.reason.split(" (")[0]) for p in problems] == [
            (2, "invalid JSON"),
            (3, "no text"),
        ]
    for data in (b"", b"\n\n", b"\xef\xbb\xbf\n"):
        assert _streamed(tmp_path / "e.jsonl.gz", gzip.compress(data)) == (
            [],
            [IngestProblem(str(tmp_path / "e.jsonl.gz"), None, "empty file")],
        )


def _streamed(path: Path, data: bytes) -> tuple[list[ArticleRecord], list[IngestProblem]]:
    path.write_bytes(data)
    problems: list[IngestProblem] = []
    records = list(stream_paths([path], problems))
    return records, problems


def test_read_paths_recurses_sorted_and_reports_missing(tmp_path: Path) -> None:
    (tmp_path / "b" / "deep").mkdir(parents=True)
    (tmp_path / "b" / "deep" / "z.md").write_text(f"# ز\n{ARABIC}", encoding="utf-8")
    (tmp_path / "b" / "a.txt").write_text(f"أ\n{ARABIC}", encoding="utf-8")
    (tmp_path / "b" / "notes.pdf").write_bytes(b"%PDF")  # unsupported inside a folder: skipped
    (tmp_path / "c.jsonl").write_bytes(jsonl({"title": "ج", "text": ARABIC}))
    records, problems = read_paths([tmp_path / "b", tmp_path / "c.jsonl", tmp_path / "nope"])
    assert [r.title for r in records] == ["أ", "ز", "ج"]
    assert problems == [IngestProblem(str(tmp_path / "nope"), None, "no such file or folder")]


def test_ingest_demo_twice_then_change_one(factory: sessionmaker[Session], tmp_path: Path) -> None:
    first = ingest_paths(factory, [DEMO])
    assert (len(first.added), first.updated, first.unchanged, first.problems) == (200, [], [], [])
    with factory() as session:
        assert count(session, Article) == 200
        passages_before = count(session, Passage)
        assert passages_before > 200

    second = ingest_paths(factory, [DEMO])
    assert (second.added, second.updated, second.problems) == ([], [], [])
    assert sorted(second.unchanged) == sorted(first.added)
    assert second.summary() == "added 0, updated 0, unchanged 200, problems 0"

    rows = [json.loads(line) for line in DEMO.read_text(encoding="utf-8").splitlines()]
    rows[5]["text"] = "خبر معدل: " + ARABIC + " " + rows[5]["text"]
    changed = tmp_path / "changed.jsonl"
    changed.write_bytes(jsonl(*rows))
    with factory() as session:
        target = session.scalars(select(Article).where(Article.external_id == rows[5]["id"])).one()
        old_ids = {p.id for p in target.passages}
        other_passages = count(session, Passage) - len(old_ids)

    third = ingest_paths(factory, [changed])
    assert third.updated == [target.id] and third.added == [] and len(third.unchanged) == 199
    with factory() as session:
        article = session.get(Article, target.id)
        assert article is not None
        new_ids = {p.id for p in article.passages}
        assert new_ids and not new_ids & old_ids
        assert article.passages[0].text.startswith("خبر معدل:")
        assert article.body == clean_text(rows[5]["text"])
        assert count(session, Passage) == other_passages + len(new_ids)
        for passage in article.passages:
            assert article.body[passage.char_start : passage.char_end] == passage.text


def test_ingest_identity_by_url_and_by_content(factory: sessionmaker[Session]) -> None:
    by_url = ArticleRecord(title="عنوان", body=ARABIC, url="http://example.com/a")
    by_content = ArticleRecord(title="بلا رابط", body=ARABIC)
    with factory() as session:
        added = ingest_records(session, [by_url, by_content])
        again = ingest_records(session, [by_url, by_content])
        edited = ingest_records(
            session,
            [
                ArticleRecord(title="عنوان جديد", body=ARABIC, url="http://example.com/a"),
                ArticleRecord(title="بلا رابط", body=ARABIC + " تحديث."),
            ],
        )
        assert len(added.added) == 2 and again.unchanged == added.added
        # Same url -> the same article, updated; no url and new content -> a new article.
        assert edited.updated == [added.added[0]]
        assert len(edited.added) == 1 and edited.added[0] not in added.added
        assert count(session, Article) == 3


def test_bad_files_do_not_block_good_ones(factory: sessionmaker[Session], tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SEED, folder / "seed.txt")
    (folder / "feed.jsonl").write_bytes(
        jsonl(
            {"id": "g1", "title": "جيد", "text": ARABIC}, "{broken", {"id": "g2", "title": "فارغ"}
        )
    )
    # a legacy code page that is not Arabic (windows-1256 Arabic is decoded: test_parse_encodings)
    (folder / "legacy.txt").write_bytes("Café crème\nUne brève.".encode("latin-1"))
    (tmp_path / "slides.pptx").write_bytes(b"PK")
    report = ingest_paths(factory, [folder, tmp_path / "slides.pptx"])
    assert len(report.added) == 2
    assert sorted((Path(p.path).name, p.line) for p in report.problems) == [
        ("feed.jsonl", 2),
        ("feed.jsonl", 3),
        ("legacy.txt", None),
        ("slides.pptx", None),
    ]
    with factory() as session:
        titles = set(session.scalars(select(Article.title)))
        assert titles == {"جيد", SEED.read_text(encoding="utf-8").splitlines()[0]}


def test_duplicate_record_in_one_batch_is_reported_once(factory: sessionmaker[Session]) -> None:
    record = ArticleRecord(title="مكرر", body=ARABIC, external_id="dup")
    changed = ArticleRecord(title="مكرر", body=ARABIC + " إضافة.", external_id="dup")
    with factory() as session:
        report = ingest_records(session, [record, record, changed])
        assert (len(report.added), report.updated, report.unchanged) == (1, [], [])
        article = session.get(Article, report.added[0])
        assert article is not None and article.body.endswith("إضافة.")


def test_corrected_source_link_or_date_is_recorded_without_resplitting(
    factory: sessionmaker[Session],
) -> None:
    original = ArticleRecord("عنوان", ARABIC, source="قديم", external_id="x1")
    with factory() as session:
        first = ingest_records(session, [original])
        passage_ids = {p.id for p in session.get(Article, first.added[0]).passages}
    corrected = ArticleRecord(
        "عنوان",
        ARABIC,
        source="جديد",
        url="http://example.org/1",
        published_at=datetime(2015, 8, 1, tzinfo=UTC),
        external_id="x1",
    )
    with factory() as session:
        second = ingest_records(session, [corrected])
        again = ingest_records(session, [corrected])
        article = session.get(Article, first.added[0])
        assert second.updated == first.added and again.unchanged == first.added
        assert (article.source, article.url) == ("جديد", "http://example.org/1")
        assert article.published_at == datetime(2015, 8, 1, tzinfo=UTC)
        assert {p.id for p in article.passages} == passage_ids


def test_gzip_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import corpus.ingest as ingest_module

    monkeypatch.setattr(ingest_module, "MAX_UNCOMPRESSED_BYTES", 10_000)
    bomb = gzip.compress(b"\n" * 1_000_000)
    records, problems = parse_document("bomb.jsonl.gz", bomb)
    assert records == [] and "limit" in problems[0].reason
    fine = gzip.compress(jsonl({"title": "عنوان", "text": ARABIC})[:9_000])
    assert parse_document("ok.jsonl.gz", fine)[0]
    truncated = gzip.compress(jsonl({"title": "عنوان", "text": ARABIC}))[:-12]
    assert parse_document("cut.jsonl.gz", truncated)[1][0].reason == "not a valid gzip file"


def test_one_impossible_date_does_not_lose_the_file() -> None:
    data = jsonl(
        {"id": "a", "title": "خبر", "text": ARABIC, "date": "9999-12-31T23:59:59-05:00"},
        {"id": "b", "title": "خبر آخر", "text": ARABIC + " ثان", "date": "2015-08-01"},
        {
            "id": "c",
            "title": "ثالث",
            "text": ARABIC + " ثالث",
            "published_at": "x",
            "date": "2015-08-01",
        },
    )
    records, problems = parse_document("feed.jsonl", data)
    assert [r.external_id for r in records] == ["a", "b", "c"]
    assert records[0].published_at is None and records[2].published_at is not None
    assert [(p.line, p.skipped) for p in problems] == [(1, False)]


def test_jsonl_archives_stream_line_by_line(tmp_path: Path) -> None:
    import gzip

    from corpus.ingest import stream_paths

    lines = [
        json.dumps({"id": f"a{i}", "title": f"خبر {i}", "text": ARABIC}, ensure_ascii=False)
        for i in range(5)
    ]
    raw = ("\n".join(lines[:2]) + "\n").encode() + b'{"id": "x", "title": "\xff\xfe"}\n'
    raw += ("\n".join(lines[2:]) + "\n{broken\n").encode()
    archive = tmp_path / "news.jsonl.gz"
    archive.write_bytes(gzip.compress(raw))
    problems: list[IngestProblem] = []
    stream = stream_paths([archive], problems)
    first = next(stream)  # records come out before the file is read to its end
    assert first.external_id == "a0" and problems == []
    rest = list(stream)
    assert [r.external_id for r in rest] == ["a1", "a2", "a3", "a4"]
    # one bad byte costs its line only; line numbers are kept
    assert [(p.line, p.reason) for p in problems] == [
        (3, "not UTF-8"),
        (7, "invalid JSON (Expecting property name enclosed in double quotes)"),
    ]


def test_a_broken_gzip_archive_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    from corpus.ingest import stream_paths

    archive = tmp_path / "news.jsonl.gz"
    archive.write_bytes(b"\x1f\x8b\x08\x00 not really gzip")
    problems: list[IngestProblem] = []
    assert list(stream_paths([archive], problems)) == []
    assert len(problems) == 1 and "gzip" in problems[0].reason
