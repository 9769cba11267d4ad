"""Read JSONL / JSON / .txt / .md into article records and upsert them idempotently."""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import json
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC
from itertools import islice
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes
from sqlalchemy import select
from sqlalchemy.orm import Session

from corpus.boilerplate import MIN_ARTICLES, candidate_shapes, shape_key, strip_boilerplate
from corpus.dates import DateNotUnderstood, parse_date
from corpus.models import Article, LineShape, Passage
from corpus.split import clean_text, fit_passages, split_passages
from corpus.types import SUFFIXES, ArticleRecord, IngestProblem, IngestReport, supported

_COMMIT_EVERY = 500


# The full SaudiNewsNet dump is ~100 MiB uncompressed; a .gz inflating past 1 GiB is refused.
MAX_UNCOMPRESSED_BYTES = 2**30
EMPTY_FILE = "empty file"  # nothing but white space (or a byte-order mark)


def content_hash(title: str, body: str) -> str:
    """sha256 hex of the cleaned title and body."""
    return hashlib.sha256(f"{clean_text(title)}\n\n{clean_text(body)}".encode()).hexdigest()


def text_hash(text: str) -> str:
    """sha256 hex of a text as stored."""
    return hashlib.sha256(text.encode()).hexdigest()


def parse_document(name: str, data: bytes) -> tuple[list[ArticleRecord], list[IngestProblem]]:
    """Parse one uploaded or read file into records; bad parts become problems."""
    lower = name.lower()
    if not supported(lower):
        suffix = Path(lower).suffix or "(none)"
        expected = ", ".join(SUFFIXES)
        return [], [
            IngestProblem(name, None, f"unsupported file type {suffix} (expected {expected})")
        ]
    if lower.endswith(".gz"):
        try:
            data = _gunzip(data, MAX_UNCOMPRESSED_BYTES)
        except (OSError, EOFError, zlib.error):
            return [], [IngestProblem(name, None, "not a valid gzip file")]
        except ValueError as exc:
            return [], [IngestProblem(name, None, str(exc))]
    text = _decode(data)
    if text is None:
        return [], [
            IngestProblem(
                name, None, "unknown encoding (not UTF-8, UTF-16, windows-1256 or ISO-8859-6)"
            )
        ]
    if not text.strip():
        return [], [IngestProblem(name, None, EMPTY_FILE)]
    if lower.endswith((".txt", ".md")):
        return _parse_plain(name, text, markdown=lower.endswith(".md"))
    if lower.endswith(".json"):
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            return _parse_jsonl(name, text)  # JSON Lines saved as .json
        items = document if isinstance(document, list) else [document]
        return _parse_objects(name, [(None, f"item {i}", item) for i, item in enumerate(items, 1)])
    return _parse_jsonl(name, text)


def _decode(data: bytes) -> str | None:
    """UTF-8 (BOM optional), UTF-16 with a BOM, or a legacy Arabic code page (windows-1256,
    ISO-8859-6) detected by charset-normalizer; None for anything else."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return _decode_legacy_arabic(data)
    # UTF-16 without a BOM decodes as "valid" UTF-8 full of NULs.
    return None if "\x00" in text else text


# Arabic archives still come in these; any other legacy encoding is refused rather than guessed.
LEGACY_ARABIC = ("cp1256", "iso8859_6")
# Share of letters that must be Arabic for a legacy decoding to be believed: a Latin-1 file
# also "decodes" as windows-1256 (which keeps the French letters), but it is not Arabic text.
_MIN_ARABIC_LETTERS = 0.5


def _decode_legacy_arabic(data: bytes) -> str | None:
    match = from_bytes(data, cp_isolation=list(LEGACY_ARABIC)).best()
    if match is None:
        return None
    text = str(match)
    letters = [ch for ch in text if ch.isalpha()]
    arabic = sum("\u0600" <= ch <= "\u06ff" for ch in letters)
    if "\x00" in text or not letters or arabic / len(letters) < _MIN_ARABIC_LETTERS:
        return None
    return text


def _parse_plain(
    name: str, text: str, *, markdown: bool
) -> tuple[list[ArticleRecord], list[IngestProblem]]:
    """First non-empty line is the title, the rest the body."""
    cleaned = clean_text(text)
    if not cleaned.strip():  # e.g. only invisible characters
        return [], [IngestProblem(name, None, EMPTY_FILE)]
    title, _, body = cleaned.partition("\n")
    if markdown:
        title = title.lstrip("#").strip()
    if not title:
        return [], [IngestProblem(name, None, "no title")]
    body = body.strip()
    if not body:
        return [], [IngestProblem(name, None, "no text")]
    return [ArticleRecord(title=title, body=body)], []


def _parse_jsonl(name: str, text: str) -> tuple[list[ArticleRecord], list[IngestProblem]]:
    items: list[tuple[int | None, str, Any]] = []
    problems: list[IngestProblem] = []
    # "\n" only: str.splitlines also splits at U+2028 and other separators that JSON allows
    # raw inside strings, and would shift every later line number.
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            items.append((number, "", json.loads(line)))
        except json.JSONDecodeError as error:
            problems.append(IngestProblem(name, number, f"invalid JSON ({error.msg})"))
    records, more = _parse_objects(name, items)
    return records, sorted(problems + more, key=lambda p: p.line or 0)


def _parse_objects(
    name: str, items: list[tuple[int | None, str, Any]]
) -> tuple[list[ArticleRecord], list[IngestProblem]]:
    """Turn decoded JSON values (line number, label, value) into records. A problem names its
    value by the line number (JSON Lines: `IngestProblem.where` shows it) or by the label
    ("item 3" of a JSON array), never both."""
    records: list[ArticleRecord] = []
    problems: list[IngestProblem] = []
    for line, label, item in items:
        prefix = f"{label}: " if label else ""
        if not isinstance(item, dict):
            kind = type(item).__name__
            problems.append(
                IngestProblem(name, line, f"{prefix}expected a JSON object, got {kind}")
            )
            continue
        record_or_reason = _record(item)
        if isinstance(record_or_reason, str):
            problems.append(IngestProblem(name, line, prefix + record_or_reason))
            continue
        record, warning = record_or_reason
        records.append(record)
        if warning is not None:
            problems.append(IngestProblem(name, line, prefix + warning, skipped=False))
    return records, problems


def _record(item: dict[str, Any]) -> tuple[ArticleRecord, str | None] | str:
    """A record from one JSON object and what was wrong with it but not fatal (a date that
    cannot be read: the article is kept without one), or the reason it is unusable."""
    body = clean_text(_string(item.get("text")) or _string(item.get("body")) or "")
    if not body:
        return "no text"
    title = clean_text(_string(item.get("title")) or "")
    if not title:
        return "no title"
    identifier = item.get("id")
    external_id = str(identifier).strip() if isinstance(identifier, str | int) else ""
    published_at, warning = None, None
    for field in ("published_at", "date"):  # the first one that reads
        try:
            published_at = parse_date(item.get(field))
        except DateNotUnderstood as exc:
            warning = warning or f"{exc}; stored without a date"
            continue
        if published_at is not None:
            warning = None
            break
    record = ArticleRecord(
        title=title,
        body=body,
        source=_string(item.get("source")),
        url=_string(item.get("url")),
        published_at=published_at,
        external_id=external_id or None,
        language=_string(item.get("language")) or "ar",
    )
    return record, warning


def _string(value: Any) -> str | None:
    """A stripped non-empty string, else None."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _gunzip(data: bytes, limit: int) -> bytes:
    """Decompress in chunks, refusing more than `limit` bytes (a small upload can be a bomb)."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    out = inflater.decompress(data, limit + 1)
    if len(out) > limit or inflater.unconsumed_tail:
        raise ValueError(f"uncompressed size over the {limit // 2**20} MiB limit")
    if not inflater.eof:
        raise EOFError("truncated gzip data")
    return out


def read_paths(paths: Iterable[Path]) -> tuple[list[ArticleRecord], list[IngestProblem]]:
    """Parse files and folders (recursively, sorted, supported suffixes only) into memory."""
    problems: list[IngestProblem] = []
    records = list(stream_paths(paths, problems))
    return records, problems


def stream_paths(paths: Iterable[Path], problems: list[IngestProblem]) -> Iterator[ArticleRecord]:
    """The records of files and folders, one at a time; problems are appended as they are met.

    JSON Lines files (.jsonl, .jsonl.gz) are read line by line, so an archive of any size
    ingests in bounded memory and a line that is not UTF-8 costs only that line.
    """
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and supported(p.name))
        elif path.exists():
            files = [path]
        else:
            problems.append(IngestProblem(str(path), None, "no such file or folder"))
            continue
        for file in files:
            try:
                if file.name.lower().endswith((".jsonl", ".jsonl.gz")) and not _utf16(file):
                    yield from _stream_jsonl(file, problems)
                    continue
                data = file.read_bytes()
            except (OSError, EOFError, zlib.error) as error:
                reason = f"cannot read ({getattr(error, 'strerror', None) or error})"
                if file.name.lower().endswith(".gz"):
                    reason = f"not a valid gzip file ({error})"
                problems.append(IngestProblem(str(file), None, reason))
                continue
            found, trouble = parse_document(str(file), data)
            problems.extend(trouble)
            yield from found


def _utf16(file: Path) -> bool:
    with _open_binary(file) as handle:
        return handle.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _open_binary(file: Path) -> io.BufferedIOBase:
    if file.name.lower().endswith(".gz"):
        return gzip.open(file, "rb")
    return file.open("rb")


def _stream_jsonl(file: Path, problems: list[IngestProblem]) -> Iterator[ArticleRecord]:
    name, read, content = str(file), 0, False
    with _open_binary(file) as handle:
        try:
            for number, raw in enumerate(handle, 1):
                read += len(raw)
                if read > MAX_UNCOMPRESSED_BYTES:
                    limit = MAX_UNCOMPRESSED_BYTES // 2**20
                    problems.append(IngestProblem(name, number, f"over the {limit} MiB limit"))
                    return
                try:
                    line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError:
                    problems.append(IngestProblem(name, number, "not UTF-8"))
                    content = True
                    continue
                content = content or bool(line.strip())
                records, trouble = _parse_jsonl_line(name, number, line)
                problems.extend(trouble)
                yield from records
            if not content:
                problems.append(IngestProblem(name, None, EMPTY_FILE))
        except (OSError, EOFError, zlib.error) as error:
            problems.append(IngestProblem(name, None, f"not a valid gzip file ({error})"))


def _parse_jsonl_line(
    name: str, number: int, line: str
) -> tuple[list[ArticleRecord], list[IngestProblem]]:
    if not line.strip():
        return [], []
    try:
        item = json.loads(line)
    except json.JSONDecodeError as error:
        return [], [IngestProblem(name, number, f"invalid JSON ({error.msg})")]
    return _parse_objects(name, [(number, "", item)])


# Whether the passage `text` of an article titled `title` is too long to index whole.
TooLong = Callable[[str, str], bool]


def ingest_records(
    session: Session, records: Iterable[ArticleRecord], too_long: TooLong | None = None
) -> IngestReport:
    """Add new articles, re-split changed ones, skip unchanged ones; commits every
    `_COMMIT_EVERY` records. Site boilerplate (`corpus.boilerplate`) is dropped from the stored
    body; the line counts it is judged by include the records of the same commit.

    `too_long(title, passage)`, when given, marks passages to cut further (the encoder's window).
    """
    outcomes: dict[str, list[int]] = {"added": [], "updated": [], "unchanged": []}
    problems: list[IngestProblem] = []
    seen_added: set[int] = set()
    dropped = 0
    numbered = enumerate(records, 1)
    while chunk := list(islice(numbered, _COMMIT_EVERY)):
        prepared = []
        for number, record in chunk:
            title, body = clean_text(record.title), clean_text(record.body)
            if not body:
                problems.append(IngestProblem(f"record {number}", None, "no text"))
                continue
            prepared.append((record, title, body, content_hash(title, body)))
        repeated = _count_shapes(session, prepared)
        for record, title, body, digest in prepared:
            outcome, article_id, removed = _upsert(
                session, record, title, body, digest, repeated, too_long
            )
            dropped += removed
            # A file repeating an article: report it once, as added.
            if article_id in seen_added:
                continue
            if outcome == "added":
                seen_added.add(article_id)
            outcomes[outcome].append(article_id)
        session.commit()
    return IngestReport(
        outcomes["added"], outcomes["updated"], outcomes["unchanged"], problems, dropped
    )


def ingest_paths(session_factory: Callable[[], Session], paths: Iterable[Path]) -> IngestReport:
    """Read `paths` and ingest what parses; problems are reported alongside."""
    records, problems = read_paths(paths)
    with session_factory() as session:
        report = ingest_records(session, records)
    return IngestReport(
        report.added,
        report.updated,
        report.unchanged,
        problems + report.problems,
        report.boilerplate_lines,
    )


Prepared = tuple[ArticleRecord, str, str, str]  # record, clean title, clean body, content hash


def _count_shapes(
    session: Session, prepared: Sequence[Prepared]
) -> Callable[[str | None, str], bool]:
    """Add the line shapes of articles not stored yet to the per-source counts (an article
    is counted once, by its identity: a new version of it adds nothing); return whether a
    (source, shape) now repeats (`boilerplate.MIN_ARTICLES`)."""
    stored = _existing(session, Article.content_hash, [digest for *_, digest in prepared])
    known_ids = _existing(session, Article.external_id, [r.external_id for r, *_ in prepared])
    known_urls = _existing(session, Article.url, [r.url for r, *_ in prepared])
    counted: set[str] = set()
    increments: Counter[str] = Counter()
    wanted: set[str] = set()
    for record, title, body, digest in prepared:
        if digest in stored:  # unchanged text: not split again, nothing to judge or count
            continue
        keys = {shape_key(record.source, shape) for shape in candidate_shapes(body, title)}
        wanted |= keys
        if record.external_id is not None:
            identity, known = f"id:{record.external_id}", record.external_id in known_ids
        elif record.url is not None:
            identity, known = f"url:{record.url}", record.url in known_urls
        else:
            identity, known = f"text:{digest}", False
        if not known and identity not in counted:
            counted.add(identity)
            increments.update(keys)
    totals: dict[str, int] = {}
    ordered = sorted(wanted)
    for start in range(0, len(ordered), 500):
        rows = session.scalars(
            select(LineShape).where(LineShape.key.in_(ordered[start : start + 500]))
        )
        for row in rows:
            row.articles += increments.get(row.key, 0)
            totals[row.key] = row.articles
    for key, count in increments.items():
        if key not in totals:
            session.add(LineShape(key=key, articles=count))
            totals[key] = count
    return lambda source, shape: totals.get(shape_key(source, shape), 0) >= MIN_ARTICLES


def _existing(session: Session, column: Any, values: Sequence[str | None]) -> set[str]:
    """The values (None skipped) that some stored article has in `column`."""
    unique = sorted({v for v in values if v is not None})
    found: set[str] = set()
    for start in range(0, len(unique), 500):
        found.update(session.scalars(select(column).where(column.in_(unique[start : start + 500]))))
    return found


def _upsert(
    session: Session,
    record: ArticleRecord,
    title: str,
    body: str,
    digest: str,
    repeated: Callable[[str | None, str], bool],
    too_long: TooLong | None = None,
) -> tuple[str, int, int]:
    """Store one record (its cleaned title and body, their `content_hash`); returns the
    outcome, the article id and how many boilerplate lines were dropped from the body."""
    article = _find(session, record, digest)
    if article is not None and article.content_hash == digest:
        # Same text: passages stay; a corrected source, link or date is still recorded.
        if _metadata(article) == _metadata(record):
            return "unchanged", article.id, 0
        _set_metadata(article, record)
        session.flush()
        return "updated", article.id, 0
    outcome = "updated"
    if article is None:
        article = Article()
        session.add(article)
        outcome = "added"
    elif article.passages:
        # Delete the old passages before inserting the new ones: (article_id, ordinal) is unique.
        article.passages.clear()
        session.flush()
    stripped = strip_boilerplate(body, title, lambda shape: repeated(record.source, shape))
    # The hash is of the text as received: re-ingesting it is recognized as unchanged.
    article.title, article.body, article.content_hash = title, stripped.body, digest
    _set_metadata(article, record)
    if record.external_id is not None:
        article.external_id = record.external_id
    article.passages = _passages(title, stripped.body, too_long)
    session.flush()
    return outcome, article.id, len(stripped.removed)


def _metadata(item: Article | ArticleRecord) -> tuple[object, ...]:
    published = item.published_at
    if published is not None and published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    return (item.source, item.url, published, item.language)


def _set_metadata(article: Article, record: ArticleRecord) -> None:
    article.source, article.url = record.source, record.url
    article.published_at, article.language = record.published_at, record.language


def _find(session: Session, record: ArticleRecord, digest: str) -> Article | None:
    """The stored article with the record's identity: external id, else url, else content."""
    if record.external_id is not None:
        query = select(Article).where(Article.external_id == record.external_id)
    elif record.url is not None:
        query = select(Article).where(Article.url == record.url)
    else:
        query = select(Article).where(Article.content_hash == digest)
    return session.scalars(query.order_by(Article.id).limit(1)).first()


def _passages(title: str, body: str, too_long: TooLong | None) -> list[Passage]:
    spans = split_passages(body)
    if too_long is not None:
        spans = fit_passages(spans, lambda text: too_long(title, text))
    return [
        Passage(
            ordinal=ordinal,
            text=span.text,
            char_start=span.char_start,
            char_end=span.char_end,
            content_hash=text_hash(span.text),
        )
        for ordinal, span in enumerate(spans)
    ]
