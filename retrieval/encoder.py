"""The embedding model behind a small interface: queries and passages are encoded differently."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from retrieval.errors import ModelUnavailable
from retrieval.tokenizer import PAD, SentencePieceTokenizer, TokenizerError

log = logging.getLogger(__name__)

DEFAULT_MODEL = "default"  # the bundled multilingual-e5-small, converted on first use
# The same model, passages encoded by an int8 copy (`int8_copy`): builds 1.37x faster than the
# default (benchmarks/throughput.py), but it moves passage cosines enough to flip borderline
# answer-gate decisions and cost 0.4 pt of ARCD-test recall@1; so it is opt-in.
INT8_PASSAGES_MODEL = "default-int8"
# Rows per forward pass for questions and answer sentences, which come sorted by length: a
# pass is padded to its longest row, and 16 of the bot's load questions in one pass carried
# 1.38x their tokens. Per question of a batch of 16 on ONNX Runtime, one thread: 14.0 ms in
# passes of 8 against 16.6 in one pass (`benchmarks.query_encoding --threads 1`, ARCD-test);
# passes of 6 and of 2 were slower than of 8 on the load questions (17.3, 19.2 ms vs 16.9).
SMALL_BATCH = 8


class Encoder(Protocol):
    """What the index and the retriever need of an embedding model."""

    name: str
    fingerprint: str
    dim: int
    max_tokens: int  # the model's window; longer input is truncated by the model

    def encode_queries(self, texts: Sequence[str], *, quantized: bool = False) -> np.ndarray:
        """(len(texts), dim) float32 question vectors; `quantized`: by a cheaper int8 variant
        of the model where the encoder has one (vectors a little less exact), else as usual."""
        ...

    def count_passage_tokens(self, text: str) -> int: ...

    def encode_sentences(self, texts: Sequence[str]) -> np.ndarray: ...

    def vocabulary(self) -> Mapping[str, int]: ...

    def encode_passages(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray: ...


class SentenceTransformerEncoder:
    """Any sentence-transformers model (a folder or a hub id); returns L2-normalized float32
    rows."""

    def __init__(self, model: Any, name: str, fingerprint: str) -> None:
        self._model = model
        self.name = name
        self.fingerprint = fingerprint
        dimension = getattr(model, "get_embedding_dimension", None)
        dimension = dimension or model.get_sentence_embedding_dimension  # sentence-transformers<6
        self.dim = int(dimension())
        self.max_tokens = int(model.max_seq_length)
        self._passage_lock = threading.Lock()  # see E5Encoder

    def encode_queries(self, texts: Sequence[str], *, quantized: bool = False) -> np.ndarray:
        """Encode questions (with the model's query prompt); no int8 variant: `quantized`
        changes nothing."""
        vectors = self._model.encode_query(
            list(texts), normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def encode_sentences(self, texts: Sequence[str]) -> np.ndarray:
        """A few sentences of a hit, document side (no lock: see E5Encoder)."""
        vectors = self._model.encode_document(
            list(texts), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def vocabulary(self) -> Mapping[str, int]:
        """Whole words of the tokenizer's vocabulary -> rank (see `whole_words`)."""
        return whole_words(self._model.tokenizer.get_vocab())

    def count_passage_tokens(self, text: str) -> int:
        """Tokens the model sees for a passage, prompt and special tokens included."""
        prompt = self._model.prompts.get("document", "")
        # verbose=False: counting a long passage is the point, not a mistake to warn about
        return len(self._model.tokenizer(prompt + text, verbose=False)["input_ids"])

    def encode_passages(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Encode passages (with the model's document prompt)."""
        with self._passage_lock:
            vectors = self._model.encode_document(
                list(texts),
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)


def whole_words(vocabulary: Mapping[str, int]) -> dict[str, int]:
    """Pieces that are whole words ("▁" + at least two letters) -> id; SentencePiece orders
    pieces by score, so a lower id is a more frequent spelling."""
    return {p[1:]: i for p, i in vocabulary.items() if p.startswith("\u2581") and len(p) > 2}


class E5Encoder:
    """The bundled multilingual-e5-small: a transformers `BertModel`, mean pooling over the
    tokens and L2 normalization (what its sentence-transformers config declares), prompts
    "query: " and "passage: ", tokens from `SentencePieceTokenizer`.

    Run without sentence-transformers: its tokenizer (`tokenizers`) alone held 290 MB and its
    import 40 MB more, a third of a serving process. Vectors agree with the sentence-transformers
    run of the same folder to a cosine of 1 - 1e-6 (tests/test_e5convert.py)."""

    def __init__(
        self,
        model: Any | Callable[[], Any],
        tokenizer: SentencePieceTokenizer,
        name: str,
        fingerprint: str,
        *,
        prompts: Mapping[str, str],
        max_tokens: int,
        passage_model: Callable[[Any], Any] | None = None,
        graph: OnnxRunner | None = None,
        quantized_graph: OnnxRunner | None = None,
        dim: int | None = None,
    ) -> None:
        """`model`: the torch model, or with `dim` given a function that loads it on first use
        (a process that only answers questions on ONNX Runtime never holds it: 600 MB)."""
        if dim is None:
            loaded: Any = model
            self._loaded: Any | None = loaded
            self._load_model: Callable[[], Any] | None = None
            dim = int(loaded.config.hidden_size)
        else:
            self._loaded, self._load_model = None, model
        self._model_lock = threading.Lock()
        # Questions and sentences run on ONNX Runtime when the folder has the graph (see
        # `OnnxRunner`); passages (builds: large batches, thread yielding, int8) on torch.
        self._graph = graph
        # Questions asked with `quantized=True` run on the int8 graph when there is one
        # (retrieval.e5convert.ONNX_INT8_FILE).
        self._quantized_graph = quantized_graph
        self._tokenizer = tokenizer
        self._prompts = dict(prompts)
        # Passages may be encoded by a faster variant of the same model (`int8_copy`), made on
        # first use: a process that only answers questions never holds it. Questions and
        # sentences are encoded by the float32 model (torch or its ONNX graph).
        self._make_passage_model = passage_model
        self._passage_model_made: Any | None = None
        self.name = name
        self.fingerprint = fingerprint
        self.dim = dim
        self.max_tokens = max_tokens
        # Inference is thread-safe in torch. Questions take no lock, so they are answered while
        # an index build encodes passages (measured: a held lock made them wait ~15 s per
        # build batch); builds serialize among themselves so two never compete for the cores.
        self._passage_lock = threading.Lock()

    @property
    def _model(self) -> Any:
        """The torch model (loaded on first use when a loader was given)."""
        with self._model_lock:
            if self._loaded is None:
                assert self._load_model is not None
                self._loaded = self._load_model()
            return self._loaded

    def _ids(self, texts: Sequence[str], prompt: str) -> list[list[int]]:
        return self._tokenizer.encode([self._prompts[prompt] + t for t in texts], self.max_tokens)

    def _embed(self, model: Any, ids: list[list[int]], batch_size: int) -> np.ndarray:
        """Mean-pooled, L2-normalized rows, batches of similar lengths (less padding)."""
        import torch

        def forward(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
            inputs = {
                "input_ids": torch.from_numpy(tokens),
                "attention_mask": torch.from_numpy(mask),
            }
            return model(**inputs).last_hidden_state.numpy()

        with torch.inference_mode():
            return embed_rows(forward, ids, batch_size, self.dim)

    def _embed_small(self, ids: list[list[int]]) -> np.ndarray:
        """Questions and sentences: ONNX Runtime when loaded, else torch."""
        if self._graph is None:
            return self._embed(self._model, ids, SMALL_BATCH)
        return self._graph.embed(ids, SMALL_BATCH)

    def encode_queries(self, texts: Sequence[str], *, quantized: bool = False) -> np.ndarray:
        """Encode questions (with the query prompt): (len(texts), dim) float32. `quantized`:
        on the int8 graph when loaded (see retrieval.e5convert.ONNX_INT8_FILE for its cost and
        fidelity), else as usual."""
        ids = self._ids(texts, "query")
        graph = self._quantized_graph if quantized else None
        if graph is not None:
            try:
                return graph.embed(ids, SMALL_BATCH)
            except ModelUnavailable as exc:  # a damaged file: the float32 model answers
                log.warning("%s; questions are encoded by the float32 model", exc)
                self._quantized_graph = None
        return self._embed_small(ids)

    def encode_sentences(self, texts: Sequence[str]) -> np.ndarray:
        """A few sentences of a hit, document side, for one question: like queries they take no
        lock, so they never wait for an index build's batch."""
        return self._embed_small(self._ids(texts, "document"))

    def _passage_model(self) -> Any:
        """The model that encodes passages (call with `_passage_lock` held)."""
        if self._make_passage_model is None:
            return self._model
        if self._passage_model_made is None:
            self._passage_model_made = self._make_passage_model(self._model)
        return self._passage_model_made

    def vocabulary(self) -> Mapping[str, int]:
        """Whole words of the tokenizer's vocabulary -> rank (see `whole_words`)."""
        return whole_words(self._tokenizer.vocabulary())

    def count_passage_tokens(self, text: str) -> int:
        """Tokens the model sees for a passage, prompt and special tokens included (counted
        without the window's truncation)."""
        return len(self._tokenizer.encode([self._prompts["document"] + text], 1 << 30)[0])

    def encode_passages(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Encode passages (with the document prompt): (len(texts), dim) float32."""
        ids = self._ids(texts, "document")
        with self._passage_lock:
            return self._embed(self._passage_model(), ids, batch_size)


class OnnxRunner:
    """The model's ONNX graph (`retrieval.e5convert.export_onnx`) on ONNX Runtime's CPU
    provider, for small batches, where torch's small matrix products are slow on this machine
    (benchmarks/query_encoding.py and the README give the figures). Vectors agree with torch's
    to a cosine of 1 - 1e-6 (tests/test_e5convert.py).

    A call runs with as many threads as torch has in the calling thread (one in a search worker;
    fewer while a build encodes: retrieval/readers.py sets them), on a session made for that
    count the first time it is needed (sessions share the mapped weights); idle threads sleep
    rather than spin. Thread-safe. Raises ModelUnavailable when the graph cannot be loaded."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._sessions: dict[int, Any] = {}
        self._lock = threading.Lock()

    def session(self) -> Any:
        import torch

        threads = torch.get_num_threads()
        with self._lock:
            session = self._sessions.get(threads)
            if session is None:
                session = self._sessions[threads] = self._open(threads)
            return session

    def _open(self, threads: int) -> Any:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Spinning threads would take the core from the other serving processes.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        try:
            return onnxruntime.InferenceSession(
                str(self.path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own types for a broken file
            raise ModelUnavailable(
                f"cannot load the model graph {self.path} ({exc}); delete it and its "
                f".data file, then run `python -m retrieval.e5convert` to export it again"
            ) from exc

    def embed(self, ids: list[list[int]], batch_size: int) -> np.ndarray:
        """Mean-pooled, L2-normalized rows (len(ids), hidden), batches of similar lengths."""
        session = self.session()

        def forward(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
            (hidden,) = session.run(None, {"input_ids": tokens, "attention_mask": mask})
            return np.asarray(hidden)

        # the graph's last output dimension is static: the hidden size
        return embed_rows(forward, ids, batch_size, int(session.get_outputs()[0].shape[-1]))


def embed_rows(
    forward: Callable[[np.ndarray, np.ndarray], np.ndarray],
    ids: list[list[int]],
    batch_size: int,
    dim: int,
) -> np.ndarray:
    """(len(ids), dim) float32: each row of token ids mean-pooled over its tokens and
    L2-normalized (the model's sentence-transformers pooling), computed by `forward`(token ids,
    attention mask; both int64 (rows, width), padded with PAD) -> last hidden state (rows,
    width, dim), in batches of `batch_size` rows of similar lengths (less padding)."""
    out = np.zeros((len(ids), dim), dtype=np.float32)
    order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        width = max(len(ids[i]) for i in rows)
        tokens = np.full((len(rows), width), PAD, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for r, i in enumerate(rows):
            tokens[r, : len(ids[i])] = ids[i]
            mask[r, : len(ids[i])] = 1
        hidden = forward(tokens, mask)
        weights = mask[..., None].astype(hidden.dtype)
        pooled = (hidden * weights).sum(1) / np.maximum(weights.sum(1), 1e-9)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        out[rows] = pooled
    return out


def int8_copy(model: Any) -> Any:
    """A copy of the transformer `model` for encoding passages, quantized by `quantize_int8`.
    It shares with `model` the token embedding matrix (96M of the model's 118M weights)."""
    import copy

    embeddings = model.get_input_embeddings().weight
    quantized = copy.deepcopy(model, memo={id(embeddings): embeddings})
    quantize_int8(quantized)
    return quantized


def quantize_int8(model: Any) -> None:
    """Dynamic int8 quantization (per output channel) of a transformer's Linear layers,
    except the feed-forward down-projections (`layer.N.output.dense`), in place.

    Measured on this 2-core CPU (benchmarks/throughput.py, 256 archive passages, length-sorted
    batches of 16): 2.07x the passages/s of float32 corpus-order batches of 32, against 1.51x
    for float32 sorted; mean cosine to the float32 vectors 0.997. Every Linear in int8 was 2.09x
    but moved vectors 3x further (0.985), and earlier measurements lost 4 points of recall@1.
    """
    import warnings

    import torch

    transformer = model
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
_loaded: dict[tuple[str, str], Encoder] = {}


def load_encoder(spec: str, cache_dir: Path) -> Encoder:
    """Load a model once per process: "default" (bundled e5-small), a folder, or a hub id."""
    key = (spec, str(cache_dir))
    with _lock:
        if key not in _loaded:
            _loaded[key] = _load(spec, cache_dir)
        return _loaded[key]


def _load(spec: str, cache_dir: Path) -> Encoder:
    from retrieval.e5convert import MODEL_NAME, ConversionError, ensure_model

    try:
        if spec in (DEFAULT_MODEL, INT8_PASSAGES_MODEL):
            path = ensure_model(cache_dir / "models")
            fingerprint = _fingerprint_of(path, DEFAULT_MODEL)
            if spec == DEFAULT_MODEL:
                return _load_e5(path, MODEL_NAME, fingerprint)
            return _load_e5(path, f"{MODEL_NAME}, int8 passages", f"{fingerprint}-int8p", int8_copy)
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(spec, device="cpu")
    except (ConversionError, TokenizerError, OSError, ValueError) as exc:
        raise ModelUnavailable(f"cannot load embedding model {spec!r}: {exc}") from exc
    return SentenceTransformerEncoder(model, spec, _fingerprint_of(Path(spec), spec))


def _load_e5(
    path: Path, name: str, fingerprint: str, passage_model: Callable[[Any], Any] | None = None
) -> E5Encoder:
    """The converted model folder of `retrieval.e5convert` (its sentence-transformers files
    give the prompts and the window)."""
    from retrieval.e5convert import ONNX_FILE, ONNX_INT8_FILE, SENTENCEPIECE_FILE

    graph = path / ONNX_FILE

    def load_model() -> Any:
        # imported here: transformers costs a process 150 MB it needs only to encode passages
        from transformers import BertModel
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a "Loading weights" bar on every start is noise
        return BertModel.from_pretrained(str(path)).eval()

    config = json.loads((path / "config.json").read_text())
    runner = OnnxRunner(graph) if graph.is_file() else None
    if runner is not None:
        try:
            runner.session()  # a broken graph shows now, not at the first question
        except ModelUnavailable as exc:
            log.warning("%s; questions are encoded by torch meanwhile (slower)", exc)
            runner = None
    # The int8 graph is only for a bot behind on its questions: opened on first use.
    quantized = OnnxRunner(path / ONNX_INT8_FILE) if (path / ONNX_INT8_FILE).is_file() else None
    prompts = json.loads((path / "config_sentence_transformers.json").read_text())["prompts"]
    window = json.loads((path / "sentence_bert_config.json").read_text())["max_seq_length"]
    return E5Encoder(
        load_model if runner is not None else load_model(),
        SentencePieceTokenizer.from_file(path / SENTENCEPIECE_FILE),
        name,
        fingerprint,
        prompts=prompts,
        max_tokens=int(window),
        passage_model=passage_model,
        graph=runner,
        quantized_graph=quantized if runner is not None else None,
        dim=int(config["hidden_size"]) if runner is not None else None,
    )
