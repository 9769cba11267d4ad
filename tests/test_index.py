"""Index versions: incremental builds, atomic switch, corruption and mismatch detection."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from retrieval import index as index_module
from retrieval.errors import BuildInProgress, IndexCorrupt, IndexMismatch, IndexNotReady
from retrieval.index import IndexInput, IndexStore

ITEMS = [
    IndexInput(1, "الهجرة", "اتفق الجانبان على غرفة عمليات مشتركة لمكافحة الهجرة غير الشرعية"),
    IndexInput(2, "الاقتصاد", "ارتفعت أسعار النفط في الأسواق العالمية اليوم"),
    IndexInput(3, "الرياضة", "فاز المنتخب السعودي في مباراة كرة القدم أمس"),
]


def test_load_before_any_build_says_not_ready(tmp_path, fake_encoder):
    with pytest.raises(IndexNotReady):
        IndexStore(tmp_path).load(fake_encoder)


def test_build_then_load_round_trip(tmp_path, fake_encoder):
    store = IndexStore(tmp_path)
    report = store.build(ITEMS, fake_encoder, corpus_hash="c1")
    assert (report.passages, report.embedded, report.reused) == (3, 3, 0)
    version = store.load(fake_encoder)
    assert version.size == 3
    assert version.manifest["corpus_hash"] == "c1"
    assert version.manifest["model_fingerprint"] == fake_encoder.fingerprint
    assert sorted(version.dense.ids.tolist()) == [1, 2, 3]
    assert version.lexical.search("غرفة عمليات مشتركة", 1)[0][0] == 1


def test_incremental_build_embeds_only_new_or_changed_passages(tmp_path, fake_encoder):
    store = IndexStore(tmp_path)
    store.build(ITEMS, fake_encoder, corpus_hash="c1")
    assert fake_encoder.passages_encoded == 3
    changed = [
        ITEMS[0],
        IndexInput(2, "الاقتصاد", "هبطت أسعار الذهب"),
        ITEMS[2],
        IndexInput(4, "جديد", "خبر جديد تماما"),
    ]
    report = store.build(changed, fake_encoder, corpus_hash="c2")
    assert (report.embedded, report.reused) == (2, 2)
    assert fake_encoder.passages_encoded == 3 + 2
    # a rebuild of the same corpus embeds nothing
    store.build(changed, fake_encoder, corpus_hash="c2")
    assert fake_encoder.passages_encoded == 5
    # --full re-embeds everything
    store.build(changed, fake_encoder, corpus_hash="c2", full=True)
    assert fake_encoder.passages_encoded == 9


def test_a_crash_mid_build_leaves_the_previous_version_serving(tmp_path, fake_encoder, monkeypatch):
    store = IndexStore(tmp_path)
    store.build(ITEMS, fake_encoder, corpus_hash="c1")
    before = store.current_name()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(index_module, "_fsync_tree", boom)
    with pytest.raises(OSError):
        store.build(ITEMS[:1], fake_encoder, corpus_hash="c2")
    assert store.current_name() == before
    assert store.load(fake_encoder).size == 3
    monkeypatch.undo()
    # the next build cleans the half-written version and succeeds
    store.build(ITEMS[:1], fake_encoder, corpus_hash="c2")
    assert not list((tmp_path / "versions").glob(".tmp-*"))
    assert store.load(fake_encoder).size == 1


def test_old_versions_are_pruned(tmp_path, fake_encoder):
    store = IndexStore(tmp_path)
    for i in range(4):
        store.build(ITEMS, fake_encoder, corpus_hash=f"c{i}")
    names = [p.name for p in (tmp_path / "versions").iterdir()]
    assert len(names) == index_module.KEEP_VERSIONS
    assert store.current_name() in names


def test_corrupt_index_is_detected(tmp_path, fake_encoder):
    store = IndexStore(tmp_path)
    store.build(ITEMS, fake_encoder, corpus_hash="c1")
    dense = tmp_path / "versions" / store.current_name() / "dense.faiss"
    data = bytearray(dense.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dense.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt):
        store.load(fake_encoder)


def test_truncated_or_missing_files_are_detected(tmp_path, fake_encoder):
    store = IndexStore(tmp_path)
    store.build(ITEMS, fake_encoder, corpus_hash="c1")
    folder = tmp_path / "versions" / store.current_name()
    os.remove(folder / "ids.npy")
    with pytest.raises(IndexCorrupt):
        store.load(fake_encoder)
    (folder / "manifest.json").write_text("{not json")
    with pytest.raises(IndexCorrupt):
        store.load(fake_encoder)


def test_index_built_with_another_model_is_a_mismatch(tmp_path, fake_encoder):
    store = IndexStore(tmp_path)
    store.build(ITEMS, fake_encoder, corpus_hash="c1")
    fake_encoder.fingerprint = "another-model"
    with pytest.raises(IndexMismatch):
        store.load(fake_encoder)
    manifest = json.loads(
        (tmp_path / "versions" / store.current_name() / "manifest.json").read_text()
    )
    assert manifest["model_fingerprint"] == "fake-1"


def test_only_one_build_at_a_time(tmp_path, fake_encoder):
    store = IndexStore(tmp_path)
    with store.build_lock(), pytest.raises(BuildInProgress):
        store.build(ITEMS, fake_encoder, corpus_hash="c1")


def test_keys_ending_in_a_nul_byte_are_still_reused(tmp_path, fake_encoder, monkeypatch):
    # One sha256 digest in 256 ends with 0x00: make every key do so.
    def key(fingerprint: str, text: str) -> bytes:
        return hashlib.sha256(text.encode()).digest()[:31] + b"\0"

    monkeypatch.setattr(index_module, "embedding_key", key)
    store = IndexStore(tmp_path)
    store.build(ITEMS, fake_encoder, corpus_hash="c1")
    report = store.build(ITEMS, fake_encoder, corpus_hash="c1")
    assert (report.embedded, report.reused) == (0, 3)
