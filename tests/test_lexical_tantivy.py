"""The tantivy lexical index scores with the project's BM25 constants over index-wide
statistics, whatever was added or removed before."""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest

from retrieval.arabic import analyze_document, analyze_query
from retrieval.backends import lexical_tantivy
from retrieval.backends.lexical_tantivy import K1, B, TantivyIndex
from retrieval.errors import IndexMismatch

TEXTS = {
    10: "اتفق الجانبان على غرفة عمليات مشتركة لمكافحة الهجرة غير الشرعية",
    20: "ارتفعت أسعار النفط في الأسواق العالمية اليوم وارتفعت أسعار الذهب",
    30: "فاز المنتخب السعودي في مباراة كرة القدم أمس على ملعب الملك فهد",
    40: "وزارة الصحة تعلن عن حملة تطعيم ضد الإنفلونزا في المدارس",
    50: "أسعار النفط",
}
QUESTIONS = ["كم بلغت أسعار النفط؟", "مباراة كرة القدم أمس", "حملة تطعيم الهجرة"]


@pytest.fixture(autouse=True, params=["term queries", "pool filter"])
def counting(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test both ways the index counts a query term's occurrences: its own term query
    (terms in few passages) and the pool filter (common terms; forced here)."""
    if request.param == "pool filter":
        monkeypatch.setattr(lexical_tantivy, "_UNFILTERED_DF", 0)
    return str(request.param)


def test_more_matches_than_the_pool_rank_alike_both_ways(tmp_path, monkeypatch):
    """A term in more passages than the pool holds: the term query's hits outside the pool are
    dropped, and the ranking is the pool filter's."""
    texts = {
        pid: " ".join(["أسعار النفط"] * (1 + pid % 4) + ["خبر"] * (pid % 7) + [f"رقم{pid}"])
        for pid in range(1, 2 * lexical_tantivy.POOL + 1)
    }
    index = TantivyIndex.create(tmp_path / "lexical")
    index.upsert(list(texts), list(texts.values()))
    questions = ["أسعار النفط", "خبر النفط", "رقم7 النفط"]
    monkeypatch.setattr(lexical_tantivy, "_UNFILTERED_DF", 0)
    filtered = [index.search(q, 20) for q in questions]
    monkeypatch.setattr(lexical_tantivy, "_UNFILTERED_DF", 10_000)
    assert [index.search(q, 20) for q in questions] == filtered
    assert all(len(ranked) == 20 for ranked in filtered) and filtered[2][0][0] == 7


def reference(texts: dict[int, str], question: str) -> dict[int, float]:
    """BM25 written out: Lucene IDF, K1 and B, every passage scored."""
    docs = {pid: Counter(analyze_document(text)) for pid, text in texts.items()}
    lengths = {pid: sum(c.values()) for pid, c in docs.items()}
    avgdl = sum(lengths.values()) / len(docs)
    scores = {}
    for pid, counts in docs.items():
        score = 0.0
        for term in analyze_query(question):
            df = sum(1 for c in docs.values() if term in c)
            idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
            tf = counts[term]
            score += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths[pid] / avgdl))
        if score > 0:
            scores[pid] = score
    return scores


def assert_scores(index: TantivyIndex, texts: dict[int, str]) -> None:
    for question in QUESTIONS:
        expected = reference(texts, question)
        got = dict(index.search(question, 10))
        assert got.keys() == expected.keys(), question
        for pid, score in expected.items():
            assert got[pid] == pytest.approx(score, rel=1e-6), (question, pid)


def test_scores_are_bm25_with_the_project_constants(tmp_path):
    index = TantivyIndex.create(tmp_path / "lexical")
    index.upsert(list(TEXTS), list(TEXTS.values()))
    assert (K1, B) != (1.2, 0.75)  # not tantivy's own constants, or this test proves nothing
    assert_scores(index, TEXTS)
    ranked = index.search(QUESTIONS[0], 10)
    assert [pid for pid, _ in ranked][:2] == [50, 20]  # the short passage first: b at work


def test_statistics_follow_updates_and_removals(tmp_path):
    index = TantivyIndex.create(tmp_path / "lexical")
    index.upsert(list(TEXTS), list(TEXTS.values()))
    index.upsert([20], ["ارتفعت أسعار النفط"])  # replaced: shorter now
    index.remove([30])
    now = {pid: text for pid, text in TEXTS.items() if pid != 30} | {20: "ارتفعت أسعار النفط"}
    assert len(index) == len(now)
    assert_scores(index, now)
    reopened = TantivyIndex.open(tmp_path / "lexical")
    assert_scores(reopened, now)


def test_an_index_of_the_previous_format_is_rebuilt_not_misread(tmp_path):
    index = TantivyIndex.create(tmp_path / "lexical")
    index.upsert([1], ["نص"])
    settings = tmp_path / "lexical" / "sanad-lexical.json"
    old = json.loads(settings.read_text())
    del old["format"]
    settings.write_text(json.dumps(old))
    with pytest.raises(IndexMismatch, match="format 1"):
        TantivyIndex.open(tmp_path / "lexical")


def test_an_id_twice_in_one_batch_is_refused_and_nothing_is_written(tmp_path):
    index = TantivyIndex.create(tmp_path / "lexical")
    index.upsert([10], [TEXTS[10]])
    with pytest.raises(ValueError, match="unique"):
        index.upsert([20, 20], [TEXTS[20], TEXTS[30]])
    assert len(index) == 1


def test_re_upserting_existing_ids_keeps_scores_exact(tmp_path):
    """A re-upsert (as after a crash between this index's commit and the catalog's) leaves no
    deleted document in tantivy's statistics, so read-back term frequencies stay exact."""
    index = TantivyIndex.create(tmp_path / "lexical")
    index.upsert(list(TEXTS), list(TEXTS.values()))
    index.upsert([10, 20], [TEXTS[10], TEXTS[20]])  # the same passages again
    index.upsert([40], ["وزارة الصحة تعلن حملة تطعيم تطعيم تطعيم ضد الإنفلونزا"])
    now = TEXTS | {40: "وزارة الصحة تعلن حملة تطعيم تطعيم تطعيم ضد الإنفلونزا"}
    assert len(index) == len(now)
    assert_scores(index, now)


def test_a_term_repeated_many_times_is_counted_exactly(tmp_path):
    index = TantivyIndex.create(tmp_path / "lexical")
    texts = {1: "النفط " * 40 + "سعر", 2: "النفط سعر برميل", 3: "الذهب سعر"}
    index.upsert(list(texts), list(texts.values()))
    got = dict(index.search("سعر النفط", 10))
    expected = reference(texts, "سعر النفط")
    assert got.keys() == expected.keys()
    assert all(got[p] == pytest.approx(expected[p], rel=1e-6) for p in expected)
