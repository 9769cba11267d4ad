"""LexicalIndex: BM25 over analyzed Arabic passages, search, save/load and failure modes."""

from __future__ import annotations

import json

import pytest

from retrieval.backends.lexical_bm25 import Bm25Index as LexicalIndex
from retrieval.errors import IndexCorrupt, IndexMismatch, IndexNotReady

IDS = [10, 20, 30, 40]
TEXTS = [
    "اتفق الجانبان على غرفة عمليات مشتركة لمكافحة الهجرة غير الشرعية",
    "ارتفعت أسعار النفط في الأسواق العالمية اليوم",
    "فاز المنتخب السعودي في مباراة كرة القدم أمس على ملعب الملك فهد",
    "وزارة الصحة تعلن عن حملة تطعيم ضد الإنفلونزا في المدارس",
]


@pytest.fixture(scope="module")
def index() -> LexicalIndex:
    return LexicalIndex.build(IDS, TEXTS)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("كم بلغت أسعار النفط؟", 20),
        ("من فاز في مباراة كرة القدم؟", 30),
        ("ما هي حملات التطعيم في المدارس", 40),  # plural and article differ from the text
        ("عمليات مكافحة الهجرة", 10),
    ],
)
def test_search_finds_the_right_passage(index, question, expected):
    assert index.search(question, 2)[0][0] == expected


def test_scores_are_positive_and_descending(index):
    hits = index.search("النفط والمنتخب السعودي", 4)
    assert {pid for pid, _ in hits} == {20, 30}  # passages without a shared term are not hits
    scores = [score for _, score in hits]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0


@pytest.mark.parametrize("question", ["ما هو؟", "", "؟؟", "كلمات غائبة تماما"])
def test_no_searchable_or_known_terms_gives_no_hits(index, question):
    assert index.search(question, 5) == []


def test_k_bounds_the_hits(index):
    assert len(index.search("في", 5)) == 0  # a stop word only
    assert len(index.search("النفط المنتخب الصحة الهجرة", 2)) == 2
    assert index.search("النفط", 0) == []


def test_len(index):
    assert len(index) == 4


def test_save_load_round_trip(index, tmp_path):
    index.save(tmp_path / "lexical")
    loaded = LexicalIndex.load(tmp_path / "lexical")
    assert len(loaded) == len(index)
    for question in ["أسعار النفط", "كرة القدم", "حملة تطعيم"]:
        assert loaded.search(question, 3) == index.search(question, 3)


def test_load_missing_index(tmp_path):
    with pytest.raises(IndexNotReady):
        LexicalIndex.load(tmp_path / "nothing")


def test_load_corrupt_index(index, tmp_path):
    index.save(tmp_path)
    (tmp_path / "ids.npy").unlink()
    with pytest.raises(IndexCorrupt):
        LexicalIndex.load(tmp_path)


def test_load_index_of_another_analyzer(index, tmp_path):
    index.save(tmp_path)
    manifest = json.loads((tmp_path / "lexical.json").read_text())
    manifest["analyzer"] = "light-0-old"
    (tmp_path / "lexical.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch):
        LexicalIndex.load(tmp_path)


def test_empty_and_termless_corpora(tmp_path):
    for texts in ([], ["؟ ... !", "في من على"]):
        index = LexicalIndex.build(list(range(len(texts))), texts)
        assert index.search("النفط", 5) == []
        index.save(tmp_path / str(len(texts)))
        assert len(LexicalIndex.load(tmp_path / str(len(texts)))) == len(texts)


def test_build_rejects_bad_input():
    with pytest.raises(ValueError):
        LexicalIndex.build([1, 2], ["نص واحد"])
    with pytest.raises(ValueError):
        LexicalIndex.build([1, 1], ["نص", "نص آخر"])
