"""Index generations: in-place growth, durable vectors, atomic switch, corruption and mismatch."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from retrieval import index as index_module
from retrieval.errors import BuildInProgress, IndexCorrupt, IndexMismatch, IndexNotReady
from retrieval.index import IndexInput, IndexStore

ITEMS = [
    IndexInput(1, "الهجرة", "اتفق الجانبان على غرفة عمليات مشتركة لمكافحة الهجرة غير الشرعية"),
    IndexInput(2, "الاقتصاد", "ارتفعت أسعار النفط في الأسواق العالمية اليوم"),
    IndexInput(3, "الرياضة", "فاز المنتخب السعودي في مباراة كرة القدم أمس"),
]


class ListCorpus:
    """A corpus held in a list (the CorpusSource protocol)."""

    def __init__(self, items: Sequence[IndexInput]) -> None:
        self.items = {item.passage_id: item for item in items}

    def passage_ids(self) -> set[int]:
        return set(self.items)

    def passages(self, ids: Sequence[int]) -> list[IndexInput]:
        return [self.items[i] for i in sorted(set(ids)) if i in self.items]

    def fingerprint(self) -> str:
        return ",".join(map(str, sorted(self.items)))


def test_load_before_any_build_says_not_ready(tmp_path, fake_encoder):
    with pytest.raises(IndexNotReady):
        IndexStore(tmp_path).load(fake_encoder)


def test_sync_then_load_round_trip(tmp_path, fake_encoder):
    store = IndexStore(tmp_path)
    report = store.sync(ListCorpus(ITEMS), fake_encoder)
    assert (report.passages, report.added, report.embedded, report.reused) == (3, 3, 3, 0)
    live = store.load(fake_encoder)
    assert live.size == 3
    assert live.meta["corpus_hash"] == "1,2,3"
    assert live.meta["model_fingerprint"] == fake_encoder.fingerprint
    assert live.lexical.search("غرفة عمليات مشتركة", 1)[0][0] == 1
    assert live.dense_search(fake_encoder.encode_queries(["النفط"])[0], 1)[0][0] == 2


def test_sync_embeds_only_new_passages_and_removes_old_ones(tmp_path, fake_encoder):
    store = IndexStore(tmp_path)
    store.sync(ListCorpus(ITEMS), fake_encoder)
    first = store.current_name()
    changed = [ITEMS[0], ITEMS[2], IndexInput(4, "جديد", "خبر جديد تماما عن الذهب")]
    report = store.sync(ListCorpus(changed), fake_encoder)
    assert (report.added, report.removed, report.embedded) == (1, 1, 1)
    assert fake_encoder.passages_encoded == 4
    assert store.current_name() == first  # grown in place, no new generation
    live = store.load(fake_encoder)
    assert sorted(live.dense.vectors([1, 2, 3, 4])) == [1, 3, 4]
    assert live.lexical.search("النفط", 5) == []
    assert store.sync(ListCorpus(changed), fake_encoder).embedded == 0
    # --full re-embeds everything into a new generation
    report = store.sync(ListCorpus(changed), fake_encoder, full=True)
    assert (report.embedded, fake_encoder.passages_encoded) == (3, 7)
    assert store.current_name() != first


def test_a_removed_then_restored_passage_reuses_its_stored_vector(tmp_path, fake_encoder):
    store = IndexStore(tmp_path)
    store.sync(ListCorpus(ITEMS), fake_encoder)
    store.sync(ListCorpus(ITEMS[:2]), fake_encoder)
    report = store.sync(ListCorpus(ITEMS), fake_encoder)
    assert (report.embedded, report.reused) == (0, 1)


class FailingEncoder:
    """Wraps an encoder; raises on the n-th passage batch (a build dying mid-embedding)."""

    def __init__(self, inner, fail_on_batch: int) -> None:
        self._inner = inner
        self._batches = 0
        self._fail_on = fail_on_batch

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def encode_passages(self, texts, *, batch_size=32):
        self._batches += 1
        if self._batches == self._fail_on:
            raise MemoryError("killed")
        return self._inner.encode_passages(texts, batch_size=batch_size)


def test_a_build_dying_mid_embedding_keeps_every_committed_batch(
    tmp_path, fake_encoder, monkeypatch
):
    monkeypatch.setattr(index_module, "EMBED_BATCH", 2)
    items = [IndexInput(i, "خبر", f"نص الخبر رقم {i} " * (i % 5 + 1)) for i in range(1, 12)]
    store = IndexStore(tmp_path)
    store.sync(ListCorpus(items[:1]), fake_encoder)  # the generation being served
    with pytest.raises(MemoryError):
        store.sync(ListCorpus(items), FailingEncoder(fake_encoder, fail_on_batch=4))
    assert fake_encoder.passages_encoded == 1 + 6  # three batches stored before the failure
    live = store.load(fake_encoder)
    assert live.size == 7 and live.pending() == 4  # the rest answer by keywords meanwhile
    assert 11 in dict(live.lexical.search("رقم 11", 11))
    report = store.sync(ListCorpus(items), fake_encoder)
    assert (report.embedded, report.reused) == (4, 0)
    assert fake_encoder.passages_encoded == 11  # nothing stored was encoded twice
    assert store.load(fake_encoder).pending() == 0


def test_a_failed_full_rebuild_leaves_the_previous_generation_serving(tmp_path, fake_encoder):
    store = IndexStore(tmp_path)
    store.sync(ListCorpus(ITEMS), fake_encoder)
    before = store.current_name()
    with pytest.raises(MemoryError):
        store.sync(ListCorpus(ITEMS), FailingEncoder(fake_encoder, 1), full=True)
    assert store.current_name() == before
    assert store.load(fake_encoder).size == 3
    store.sync(ListCorpus(ITEMS), fake_encoder, full=True)  # cleans the unfinished one
    assert not list((tmp_path / "generations").glob(".tmp-*"))
    assert store.current_name() != before


def test_a_serving_process_follows_another_process_commits(tmp_path, fake_encoder):
    store = IndexStore(tmp_path)
    store.sync(ListCorpus(ITEMS), fake_encoder)
    live = store.load(fake_encoder)  # what the bot holds
    grown = [*ITEMS[1:], IndexInput(7, "الذهب", "قفزت أسعار الذهب إلى مستوى قياسي")]
    IndexStore(tmp_path).sync(ListCorpus(grown), fake_encoder)  # what the CLI does
    assert live.lexical.search("الذهب", 3) == [] or 7 in dict(live.lexical.search("الذهب", 3))
    live.refresh()
    assert [pid for pid, _ in live.lexical.search("الذهب قياسي", 3)] == [7]
    assert 7 in live.dense and 1 not in live.dense
    assert live.respell("الذهب", None) == "الذهب"


def test_old_generations_are_pruned(tmp_path, fake_encoder):
    store = IndexStore(tmp_path)
    for _ in range(4):
        store.sync(ListCorpus(ITEMS), fake_encoder, full=True)
    names = [p.name for p in (tmp_path / "generations").iterdir()]
    assert len(names) == index_module.KEEP_GENERATIONS
    assert store.current_name() in names


def test_corrupt_catalog_is_detected_and_rebuilt_aside(tmp_path, fake_encoder):
    store = IndexStore(tmp_path)
    store.sync(ListCorpus(ITEMS), fake_encoder)
    before = store.current_name()
    (tmp_path / "generations" / before / "catalog.sqlite").write_bytes(b"\x00garbage" * 512)
    with pytest.raises(IndexCorrupt):
        store.load(fake_encoder)
    report = store.sync(ListCorpus(ITEMS), fake_encoder)
    assert (report.embedded, report.reused) == (0, 3)  # vectors survive in the store
    assert store.current_name() != before
    assert store.load(fake_encoder).size == 3


def test_damaged_lexical_files_are_detected(tmp_path, fake_encoder):
    store = IndexStore(tmp_path)
    store.sync(ListCorpus(ITEMS), fake_encoder)
    lexical = tmp_path / "generations" / store.current_name() / "lexical"
    (lexical / "meta.json").write_text("{not json")
    with pytest.raises(IndexCorrupt):
        store.load(fake_encoder)


def test_index_built_with_another_model_is_a_mismatch(tmp_path, fake_encoder):
    store = IndexStore(tmp_path)
    store.sync(ListCorpus(ITEMS), fake_encoder)
    before = store.current_name()
    fake_encoder.fingerprint = "another-model"
    with pytest.raises(IndexMismatch):
        store.load(fake_encoder)
    report = store.sync(ListCorpus(ITEMS), fake_encoder)  # a new model: a new generation
    assert (report.embedded, store.current_name() != before) == (3, True)
    assert store.load(fake_encoder).meta["model_fingerprint"] == "another-model"


def test_only_one_build_at_a_time(tmp_path, fake_encoder):
    store = IndexStore(tmp_path)
    with store.build_lock(), pytest.raises(BuildInProgress):
        store.sync(ListCorpus(ITEMS), fake_encoder)


def test_unused_vectors_are_dropped_on_compaction(tmp_path, fake_encoder):
    store = IndexStore(tmp_path)
    many = [IndexInput(i, "خبر", f"نص رقم {i}") for i in range(1, 1300)]
    store.sync(ListCorpus(many), fake_encoder)
    store.sync(ListCorpus(many[:10]), fake_encoder)
    assert len(store.embeddings(fake_encoder.dim)) == 10


def test_a_crash_between_the_lexical_commit_and_the_catalog_loses_no_passage(
    tmp_path, fake_encoder, monkeypatch
):
    from retrieval.catalog import Catalog

    store = IndexStore(tmp_path)
    store.sync(ListCorpus(ITEMS[:1]), fake_encoder)

    def crash(*args, **kwargs):
        raise MemoryError("killed")

    monkeypatch.setattr(Catalog, "add_lexical", crash)
    with pytest.raises(MemoryError):
        store.sync(ListCorpus(ITEMS), fake_encoder)
    monkeypatch.undo()
    report = store.sync(ListCorpus(ITEMS), fake_encoder)
    assert report.added == 2
    live = store.load(fake_encoder)
    assert [pid for pid, _ in live.lexical.search("النفط", 3)] == [2]
    assert len(live.lexical) == 3  # re-added, not duplicated


def test_a_damaged_embedding_store_is_moved_aside_by_the_next_build(tmp_path, fake_encoder):
    store = IndexStore(tmp_path)
    store.sync(ListCorpus(ITEMS), fake_encoder)
    for extra in ("-wal", "-shm"):
        (tmp_path / f"embeddings.sqlite{extra}").unlink(missing_ok=True)
    (tmp_path / "embeddings.sqlite").write_bytes(b"\x00garbage" * 4096)
    with pytest.raises(IndexCorrupt, match="moves it aside"):
        store.load(fake_encoder)
    report = store.sync(ListCorpus(ITEMS), fake_encoder)  # a new generation: vectors re-encoded
    assert report.embedded == 3
    assert list(tmp_path.glob("embeddings.sqlite.damaged-*"))
    assert store.load(fake_encoder).size == 3
