"""The bundled model's tokenizer (XLM-R's SentencePiece unigram), run by `sentencepiece`.

The model folder ships the tokenizer as a Hugging Face `tokenizer.json` (a Unigram model, a
Precompiled normalizer, a Metaspace pre-tokenizer). The `tokenizers` library holds that in
290 MB of memory, most of it a byte trie over 250,000 pieces; `sentencepiece`, the library the
model was trained with, holds the same pieces and scores in a double-array trie, 70 MB
(measured at load, RSS). `sentencepiece_model` turns one into the other; `SentencePieceTokenizer`
reproduces the Hugging Face pipeline on top of it:

1. the Precompiled character map (NFKC plus the model's own mappings), as `tokenizers` does;
2. runs of two or more spaces become one (the `Replace(" {2,}", " ")` normalizer);
3. one "▁" is prefixed unless the text already starts with a space (Metaspace, prepend "always");
4. the unigram Viterbi segmentation; then `<s>` … `</s>` around it, truncated to the window.

Checked on 109,335 texts (ARCD, the whole SaudiNewsNet archive's passages and titles, with
and without prompts): the same ids for all but 118. Of those, 114 are ties, two segmentations
with the same total score that the two Viterbi implementations order differently
(«وال|سب|احة» / «والس|باح|ة»); in 4 a tanween after an alef is kept by one and dropped by the
other (`tokenizers` applies the character map per grapheme, sentencepiece per longest match).
Also different: special tokens typed as text («<s>», «</s>», «<unk>», «<mask>») are ordinary
text here, where `tokenizers` maps them to their special ids, and rare combining marks after
symbols (① ™ flags) can segment differently.
"""

from __future__ import annotations

import base64
import importlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

BOS, PAD, EOS, UNK = 0, 1, 2, 3  # XLM-R's special ids, kept at the same places
_SPACES: Final = re.compile(" {2,}")


def _model_pb2() -> Any:
    """sentencepiece's protobuf module (its stubs differ between releases: typed as Any)."""
    return importlib.import_module("sentencepiece.sentencepiece_model_pb2")


class TokenizerError(ValueError):
    """The tokenizer.json is not the Unigram + Precompiled + Metaspace layout expected."""


def sentencepiece_model(tokenizer_json: Path) -> bytes:
    """A serialized SentencePiece `ModelProto` with the pieces, scores and character map of a
    Hugging Face Unigram `tokenizer.json`; piece i has id i, as in the JSON.

    Raises TokenizerError when the JSON has another layout."""
    pb = _model_pb2()
    try:
        spec = json.loads(tokenizer_json.read_text(encoding="utf-8"))
        model = spec["model"]
        normalizers = spec["normalizer"]["normalizers"]
        charsmap = next(n for n in normalizers if n["type"] == "Precompiled")
        if model["type"] != "Unigram" or spec["pre_tokenizer"]["type"] != "Metaspace":
            raise TokenizerError(f"{tokenizer_json}: not a Unigram/Metaspace tokenizer")
        vocab = model["vocab"]
        if [piece for piece, _ in vocab[:4]] != ["<s>", "<pad>", "</s>", "<unk>"]:
            raise TokenizerError(f"{tokenizer_json}: special tokens are not XLM-R's")
    except (OSError, ValueError, KeyError, TypeError, StopIteration) as exc:
        raise TokenizerError(f"{tokenizer_json}: unreadable tokenizer ({exc!r})") from exc
    kind = pb.ModelProto.SentencePiece.Type
    special = {"<s>": kind.CONTROL, "<pad>": kind.CONTROL, "</s>": kind.CONTROL}
    special |= {"<unk>": kind.UNKNOWN, "<mask>": kind.USER_DEFINED}
    proto = pb.ModelProto()
    for piece, score in vocab:
        entry = proto.pieces.add()
        entry.piece, entry.score, entry.type = piece, score, special.get(piece, kind.NORMAL)
    trainer = proto.trainer_spec
    trainer.model_type = pb.TrainerSpec.UNIGRAM
    trainer.vocab_size = len(vocab)
    trainer.bos_id, trainer.pad_id, trainer.eos_id, trainer.unk_id = BOS, PAD, EOS, UNK
    normalizer = proto.normalizer_spec
    normalizer.name = "hf_precompiled"
    normalizer.precompiled_charsmap = base64.b64decode(charsmap["precompiled_charsmap"])
    # Steps 2 and 3 of the module docstring are done in Python, around sentencepiece.
    normalizer.add_dummy_prefix = True
    normalizer.remove_extra_whitespaces = False
    normalizer.escape_whitespaces = True
    return bytes(proto.SerializeToString())


class SentencePieceTokenizer:
    """Texts -> token ids with `<s>`/`</s>`, as the model's Hugging Face tokenizer gives them.

    `model` is a serialized ModelProto from `sentencepiece_model`."""

    def __init__(self, model: bytes) -> None:
        import sentencepiece

        pb = _model_pb2()
        self._pieces = sentencepiece.SentencePieceProcessor(model_proto=model)
        # The same character map alone, without the "▁" escaping: step 1.
        proto = pb.ModelProto()
        proto.ParseFromString(model)
        proto.normalizer_spec.add_dummy_prefix = False
        proto.normalizer_spec.escape_whitespaces = False
        self._normalizer = sentencepiece.SentencePieceProcessor(
            model_proto=proto.SerializeToString()
        )
        self._space = int(self._pieces.piece_to_id("\u2581"))

    @classmethod
    def from_file(cls, path: Path) -> SentencePieceTokenizer:
        return cls(path.read_bytes())

    def __len__(self) -> int:
        return int(self._pieces.get_piece_size())

    def encode(self, texts: Sequence[str], max_tokens: int) -> list[list[int]]:
        """Token ids of each text, `<s>` and `</s>` included, at most `max_tokens` of them
        (the text's end is dropped, as Hugging Face truncation does)."""
        if max_tokens < 3:
            raise ValueError(f"max_tokens must leave room for a token, got {max_tokens}")
        texts = [_SPACES.sub(" ", text) for text in self._normalizer.normalize(list(texts))]
        pieces = self._pieces.encode([text[1:] if text.startswith(" ") else text for text in texts])
        # sentencepiece gives nothing for the empty rest of a lone space; Metaspace gives "▁"
        pieces = [
            ids or ([self._space] if text == " " else [])
            for text, ids in zip(texts, pieces, strict=True)
        ]
        return [[BOS, *ids[: max_tokens - 2], EOS] for ids in pieces]

    def vocabulary(self) -> dict[str, int]:
        """Every piece -> its id."""
        return {self._pieces.id_to_piece(i): i for i in range(len(self))}
