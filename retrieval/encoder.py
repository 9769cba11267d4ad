"""The embedding model behind a small interface: queries and passages are encoded differently."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from retrieval.errors import ModelUnavailable

DEFAULT_MODEL = "default"  # the bundled multilingual-e5-small, converted on first use
# The same model, passages encoded by an int8 copy (`int8_copy`): builds 1.37x faster than the
# default (benchmarks/throughput.py), but it moves passage cosines enough to flip borderline
# answer-gate decisions and cost 0.4 pt of ARCD-test recall@1; so it is opt-in.
INT8_PASSAGES_MODEL = "default-int8"


class Encoder(Protocol):
    """What the index and the retriever need of an embedding model."""

    name: str
    fingerprint: str
    dim: int
    max_tokens: int  # the model's window; longer input is truncated by the model

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_passage_tokens(self, text: str) -> int: ...

    def encode_sentences(self, texts: Sequence[str]) -> np.ndarray: ...

    def vocabulary(self) -> Mapping[str, int]: ...

    def encode_passages(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray: ...


class SentenceTransformerEncoder:
    """A sentence-transformers model; returns L2-normalized float32 rows."""

    def __init__(
        self,
        model: Any,
        name: str,
        fingerprint: str,
        passage_model: Callable[[Any], Any] | None = None,
    ) -> None:
        self._model = model
        # Passages may be encoded by a faster variant of the same model (`int8_copy`), made on
        # first use: a process that only answers questions never holds it. Questions and
        # sentences are always encoded by `model`.
        self._make_passage_model = passage_model
        self._passage_model_made: Any | None = None
        self.name = name
        self.fingerprint = fingerprint
        dimension = getattr(model, "get_embedding_dimension", None)
        dimension = dimension or model.get_sentence_embedding_dimension  # sentence-transformers<6
        self.dim = int(dimension())
        self.max_tokens = int(model.max_seq_length)
        # Inference is thread-safe in torch. Questions take no lock, so they are answered while
        # an index build encodes passages (measured: a held lock made them wait ~15 s per
        # build batch); builds serialize among themselves so two never compete for the cores.
        self._passage_lock = threading.Lock()

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Encode questions (with the model's query prompt)."""
        vectors = self._model.encode_query(
            list(texts), normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32)

    def encode_sentences(self, texts: Sequence[str]) -> np.ndarray:
        """A few sentences of a hit, document side, for one question: like queries they take no
        lock, so they never wait for an index build's batch."""
        vectors = self._model.encode_document(
            list(texts), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def _passage_model(self) -> Any:
        """The model that encodes passages (call with `_passage_lock` held)."""
        if self._make_passage_model is None:
            return self._model
        if self._passage_model_made is None:
            self._passage_model_made = self._make_passage_model(self._model)
        return self._passage_model_made

    def vocabulary(self) -> Mapping[str, int]:
        """Whole words of the tokenizer's vocabulary -> rank (SentencePiece orders pieces by
        score, so a lower id is a more frequent spelling)."""
        vocab = self._model.tokenizer.get_vocab()
        return {p[1:]: i for p, i in vocab.items() if p.startswith("\u2581") and len(p) > 2}

    def count_passage_tokens(self, text: str) -> int:
        """Tokens the model sees for a passage, prompt and special tokens included."""
        prompt = self._model.prompts.get("document", "")
        # verbose=False: counting a long passage is the point, not a mistake to warn about
        return len(self._model.tokenizer(prompt + text, verbose=False)["input_ids"])

    def encode_passages(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Encode passages (with the model's document prompt)."""
        with self._passage_lock:
            vectors = self._passage_model().encode_document(
                list(texts),
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)


def int8_copy(model: Any) -> Any:
    """A copy of `model` for encoding passages, quantized by `quantize_int8`. It shares with
    `model` the token embedding matrix (96M of the model's 118M weights) and the tokenizer
    (copied, the two took 370 MB more memory)."""
    import copy

    embeddings = model[0].auto_model.get_input_embeddings().weight
    tokenizer = model.tokenizer
    quantized = copy.deepcopy(model, memo={id(embeddings): embeddings, id(tokenizer): tokenizer})
    quantize_int8(quantized)
    return quantized


def quantize_int8(model: Any) -> None:
    """Dynamic int8 quantization (per output channel) of the transformer's Linear layers,
    except the feed-forward down-projections (`layer.N.output.dense`), in place.

    Measured on this 2-core CPU (benchmarks/throughput.py, 256 archive passages, length-sorted
    batches of 16): 2.07x the passages/s of float32 corpus-order batches of 32, against 1.51x
    for float32 sorted; mean cosine to the float32 vectors 0.997. Every Linear in int8 was 2.09x
    but moved vectors 3x further (0.985), and earlier measurements lost 4 points of recall@1.
    """
    import warnings

    import torch

    transformer = model[0].auto_model
    spec = {
        name: torch.ao.quantization.per_channel_dynamic_qconfig
        for name, module in transformer.named_modules()
        if isinstance(module, torch.nn.Linear)
        and (not name.endswith(".output.dense") or name.endswith("attention.output.dense"))
    }
    with warnings.catch_warnings():  # torch.ao's eager quantization announces its move to torchao
        warnings.simplefilter("ignore")
        torch.ao.quantization.quantize_dynamic(transformer, spec, inplace=True)


def _fingerprint_of(path: Path, spec: str) -> str:
    marker = path / "sanad_model.json"
    if marker.is_file():
        return str(json.loads(marker.read_text())["fingerprint"])
    return hashlib.sha256(spec.encode()).hexdigest()[:16]


_lock = threading.Lock()
_loaded: dict[tuple[str, str], SentenceTransformerEncoder] = {}


def load_encoder(spec: str, cache_dir: Path) -> SentenceTransformerEncoder:
    """Load a model once per process: "default" (bundled e5-small), a folder, or a hub id."""
    key = (spec, str(cache_dir))
    with _lock:
        if key not in _loaded:
            _loaded[key] = _load(spec, cache_dir)
        return _loaded[key]


def _load(spec: str, cache_dir: Path) -> SentenceTransformerEncoder:
    from retrieval.e5convert import MODEL_NAME, ConversionError, ensure_model

    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a "Loading weights" bar on every start is noise

        if spec in (DEFAULT_MODEL, INT8_PASSAGES_MODEL):
            path = ensure_model(cache_dir / "models")
            model = SentenceTransformer(str(path), device="cpu")
            fingerprint = _fingerprint_of(path, DEFAULT_MODEL)
            if spec == DEFAULT_MODEL:
                return SentenceTransformerEncoder(model, MODEL_NAME, fingerprint)
            return SentenceTransformerEncoder(
                model, f"{MODEL_NAME}, int8 passages", f"{fingerprint}-int8p", int8_copy
            )
        model = SentenceTransformer(spec, device="cpu")
    except (ConversionError, OSError, ValueError) as exc:
        raise ModelUnavailable(f"cannot load embedding model {spec!r}: {exc}") from exc
    return SentenceTransformerEncoder(model, spec, _fingerprint_of(Path(spec), spec))
