"""Spelling variants of a question reach the encoder as the corpus spells the words."""

from __future__ import annotations

from retrieval.arabic import strip_marks
from retrieval.spelling import Spelling

CORPUS = [
    "ما الذي اتفق عليه الجانبان بشأن الهجرة غير الشرعية",
    "وزارة الشؤون الاجتماعية والشؤون البلدية",
    "وزارة الشئون الإسلامية",
    "التقى علي بن حسن على هامش المؤتمر على الحدود",
]


def test_words_the_corpus_never_writes_so_are_respelled() -> None:
    spelling = Spelling.learn(CORPUS)
    assert spelling.respell("بشان الهجره غير الشرعيه") == "بشأن الهجرة غير الشرعية"
    vocalized = strip_marks("بِشَأْنِ الهِجْرَةِ غَيْرِ الشَّرْعِيَّةِ")
    assert spelling.respell(vocalized) == "بشأن الهجرة غير الشرعية"


def test_words_the_corpus_writes_so_are_kept() -> None:
    spelling = Spelling.learn(CORPUS)
    # both seats occur in the corpus: the reader's spelling is a real one
    assert spelling.respell("الشئون") == "الشئون" and spelling.respell("الشؤون") == "الشؤون"
    # «علي» (a name) and «على» (a preposition) fold together but both occur: kept as typed
    assert spelling.respell("علي") == "علي" and spelling.respell("على") == "على"
    # unknown words and digits are left alone
    assert spelling.respell("كازورلا 2015") == "كازورلا 2015"


def test_updated_counts_spell_like_a_table_learned_from_scratch() -> None:
    more = ["الشئون الشئون الشئون", "بشان"]
    grown = Spelling.learn(CORPUS)
    counts = Spelling.count(CORPUS)
    counts.update(Spelling.count(more))
    grown.update({word: counts[word] for word in Spelling.count(more)})
    scratch = Spelling.learn(CORPUS + more)
    for word in ("الشؤون", "الشيون", "بشان", "بشأن", "الهجره"):
        assert grown.respell(word) == scratch.respell(word)
    assert grown.respell("بشان") == "بشان"  # now a spelling the corpus writes
    grown.update({"الشئون": 1, "بشان": 0})  # those texts removed again
    assert grown.respell("بشان") == "بشأن" and len(grown) == len(Spelling.learn(CORPUS))


def test_words_the_corpus_does_not_know_still_get_one_spelling() -> None:
    from retrieval.spelling import model_spellings

    spelling = Spelling.learn(CORPUS)
    # no corpus spelling: the model's vocabulary decides, else a canonical one
    model = model_spellings({"عقوبة": 900, "عقوبه": 120_000, "مسؤول": 55_000})
    assert spelling.respell("عقوبه", model) == spelling.respell("عقوبة", model) == "عقوبة"
    assert spelling.respell("مسئول", model) == "مسؤول"
    assert spelling.respell("أمطار") == spelling.respell("امطار")
    assert spelling.respell("غرامة") == spelling.respell("غرامه")


def test_correct_words_are_never_made_worse() -> None:
    from retrieval.spelling import model_spellings

    spelling = Spelling.learn([*CORPUS, "US officials said"])
    model = model_spellings({"مائة": 700, "ماءه": 90_000, "سائق": 800})
    # words the model knows keep their spelling; one known to nobody takes a canonical one
    assert spelling.respell("مائة سائق", model) == "مائة سائق"
    assert spelling.respell("إمارة", model) == spelling.respell("امارة", model)
    # other scripts are never touched (no case folding towards the corpus)
    assert spelling.respell("Who is the us president", model) == "Who is the us president"


def test_an_update_equals_building_from_scratch_and_folds_each_word_once(monkeypatch):
    """A serving process applies every batch of new words (thousands after a big ingest):
    each word is folded once, not once per fold key touched (that was hours at 80k words)."""
    import retrieval.spelling as spelling

    base = {"الشؤون": 5, "الشئون": 2, "مدينة": 3, "مدينه": 1}
    new = {f"كلمة{i}": 1 for i in range(300)} | {"الشئون": 9, "مدينه": 0, "جديدة": 2}
    merged = Spelling(base)
    calls = 0
    fold = spelling.fold_word

    def counting(word: str) -> str:
        nonlocal calls
        calls += 1
        return fold(word)

    monkeypatch.setattr(spelling, "fold_word", counting)
    merged.update(new)
    assert calls == len(new)
    monkeypatch.setattr(spelling, "fold_word", fold)
    scratch = Spelling({**base, **new})  # `update` takes new totals; 0 removes a word
    assert merged._forms == scratch._forms
    assert merged.respell("الشءون") == "الشئون"  # now the more frequent spelling
