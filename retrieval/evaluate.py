"""Retrieval evaluation on SQuAD-format QA files: each paragraph is one article."""

from __future__ import annotations

import contextlib
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from corpus.ingest import ArticleRecord
from corpus.models import Article
from corpus.store import scratch_database
from retrieval.arabic import normalize
from retrieval.backends import DEFAULT_BACKEND, PGVECTOR
from retrieval.encoder import Encoder
from retrieval.errors import EmptyQuery, RetrievalError
from retrieval.library import Library
from retrieval.query import Mode, Query
from retrieval.settings import LibrarySettings

RECALL_AT = (1, 5, 10)
MRR_AT = 10
CURVE_K = 20  # recall@1..20 for the report plot


@dataclass(frozen=True)
class Question:
    text: str
    answers: tuple[str, ...]
    paragraph: int  # index into the paragraph list


@dataclass(frozen=True)
class QASet:
    titles: list[str]
    paragraphs: list[str]
    questions: list[Question]


@dataclass(frozen=True)
class Outcome:
    """What came back for one question."""

    question: Question
    gold_rank: int | None  # 1-based rank of the gold paragraph, None if not in the list
    top_paragraph: int | None
    answer_sentence: str | None  # chosen sentence of the top hit
    seconds: float


def load_squad(path: Path) -> QASet:
    """Read a SQuAD-format JSON file (data -> paragraphs -> qas). Raises ValueError, naming
    the file, when it cannot be read as one or holds no question."""
    titles: list[str] = []
    paragraphs: list[str] = []
    questions: list[Question] = []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
        for article in data:
            for paragraph in article.get("paragraphs", []):
                index = len(paragraphs)
                titles.append(str(article.get("title", "")).strip())
                paragraphs.append(str(paragraph["context"]))
                for qa in paragraph.get("qas", []):
                    answers = tuple(str(a["text"]) for a in qa.get("answers", []))
                    questions.append(Question(str(qa["question"]).strip(), answers, index))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path}: not a SQuAD-format JSON file ({exc!r})") from exc
    if not questions:
        raise ValueError(f"{path}: no questions (SQuAD format: data -> paragraphs -> qas)")
    return QASet(titles, paragraphs, questions)


def metrics(outcomes: Sequence[Outcome], passages: int) -> dict[str, float | int]:
    """recall@k, mrr@10, answer_in_sentence, counts and latency."""
    n = len(outcomes)
    ranks = [o.gold_rank for o in outcomes]
    result: dict[str, float | int] = {}
    for k in RECALL_AT:
        result[f"recall@{k}"] = _ratio(sum(1 for r in ranks if r is not None and r <= k), n)
    mrr = sum(1.0 / r for r in ranks if r is not None and r <= MRR_AT)
    result[f"mrr@{MRR_AT}"] = round(mrr / n, 4) if n else 0.0
    result["answer_in_sentence"] = answer_in_sentence(outcomes)
    result["questions"] = n
    result["passages"] = passages
    result["median_ms"] = (
        round(1000 * statistics.median(o.seconds for o in outcomes), 1) if n else 0
    )
    return result


def recall_curve(outcomes: Sequence[Outcome], max_k: int = CURVE_K) -> list[float]:
    """recall@1..max_k."""
    n = len(outcomes) or 1
    return [
        sum(1 for o in outcomes if o.gold_rank is not None and o.gold_rank <= k) / n
        for k in range(1, max_k + 1)
    ]


def answer_in_sentence(outcomes: Sequence[Outcome]) -> float:
    """Of the questions whose top hit is the gold paragraph: answer inside the chosen sentence."""
    judged = [o for o in outcomes if o.gold_rank == 1 and o.question.answers]
    found = sum(
        1
        for o in judged
        if o.answer_sentence
        and any(normalize(a) in normalize(o.answer_sentence) for a in o.question.answers)
    )
    return _ratio(found, len(judged))


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def prepare_library(
    qa: QASet, encoder: Encoder, workdir: Path, database_url: str | None = None
) -> tuple[Library, dict[int, int]]:
    """A throwaway store + index of the paragraphs; returns article id -> paragraph index.
    With `database_url` (a scratch PostgreSQL database) the index is pgvector's, in it."""
    if database_url is None:
        settings = LibrarySettings(
            database_url=f"sqlite:///{workdir / 'eval.db'}",
            index_dir=workdir / "index",
            index_backend=DEFAULT_BACKEND,
        )
    else:
        settings = LibrarySettings(
            database_url=database_url, index_dir=workdir / "index", index_backend=PGVECTOR
        )
    library = Library.open(settings, encoder=encoder)
    records = [
        ArticleRecord(title=title, body=body, source="eval", external_id=f"p{i}")
        for i, (title, body) in enumerate(zip(qa.titles, qa.paragraphs, strict=True))
    ]
    report = library.add_articles(records)
    library.build()
    ids = report.added + report.updated + report.unchanged
    with library.session_factory() as session:  # map back by external id, whatever the order
        rows = session.execute(
            select(Article.id, Article.external_id).where(Article.id.in_(ids))
        ).all()
    return library, {aid: int(ext[1:]) for aid, ext in rows if ext}


def run_questions(
    library: Library,
    article_to_paragraph: dict[int, int],
    qa: QASet,
    mode: Mode,
    k: int,
    fold: bool = True,
) -> list[Outcome]:
    """Ask every question; record where the gold paragraph came."""
    return [
        ask_question(library, article_to_paragraph, question, mode, k, fold)
        for question in qa.questions
    ]


def ask_question(
    library: Library,
    article_to_paragraph: dict[int, int],
    question: Question,
    mode: Mode,
    k: int,
    fold: bool = True,
    model_sentence: bool = True,
    quantized: bool = False,
) -> Outcome:
    """Ask one question; record where the gold paragraph came and how long it took.
    `model_sentence=False` lets words alone choose the answer sentence (`Query.model_sentence`);
    `quantized=True` encodes the question with the model's int8 variant (`Query.quantized`)."""
    started = time.perf_counter()
    query = Query(
        question.text,
        max(k, MRR_AT, CURVE_K),
        mode,
        fold=fold,
        model_sentence=model_sentence,
        quantized=quantized,
    )
    [found] = library.search_many([query])
    if isinstance(found, EmptyQuery):  # an empty question in the data set counts as a miss
        found = []
    elif isinstance(found, RetrievalError):
        raise found
    hits = found
    seconds = time.perf_counter() - started
    # A result stands for its article and for the copies folded into it ("also in"):
    # the user is shown every one of those citations in that result.
    shown = [
        {article_to_paragraph.get(a) for a in (h.article_id, *(r.article_id for r in h.also_in))}
        for h in hits
    ]
    rank = next((i + 1 for i, ps in enumerate(shown) if question.paragraph in ps), None)
    return Outcome(
        question,
        rank,
        article_to_paragraph.get(hits[0].article_id) if hits else None,
        hits[0].answer_sentence if hits else None,
        seconds,
    )


def evaluate(
    path: Path,
    encoder: Encoder,
    modes: Sequence[Mode],
    k: int = 10,
    fold: bool = True,
    settings: LibrarySettings | None = None,
) -> tuple[QASet, dict[str, list[Outcome]], int]:
    """Index `path`'s paragraphs in a temporary store and run every mode: the embedded
    default, or with `settings` of INDEX_BACKEND=pgvector a scratch database on the same
    PostgreSQL server (dropped afterwards; the deployment's own database is not touched)."""
    qa = load_squad(path)
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="sanad-eval-"))
        scratch = None
        if settings is not None and settings.index_backend == PGVECTOR:
            scratch = stack.enter_context(scratch_database(settings.database_url))
        library, mapping = prepare_library(qa, encoder, Path(tmp), scratch)
        stack.callback(library.close)
        passages = library.retriever.version.size
        results: dict[str, list[Outcome]] = {
            mode: run_questions(library, mapping, qa, mode, k, fold) for mode in modes
        }
    return qa, results, passages
