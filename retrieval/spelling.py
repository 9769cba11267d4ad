"""Question words respelled the way the corpus spells them, so that spelling variants of one
question (بشان / بشأن, الهجره / الهجرة, vocalized or not) reach the encoder as the same text.

A word the corpus writes is kept; a variant of a word the corpus writes (same `fold_word` key)
becomes the corpus's commonest spelling: «علي» stays «علي» (a name) although «على» is commoner,
because the corpus has both. A word the corpus does not know is kept when it is the model
vocabulary's preferred spelling of its alef, hamza and ta marbuta variants, else takes that
spelling (`ModelSpelling`), else one canonical spelling of them (`narrow_key`): a word known to
neither may lose its hamza (إمارة -> اماره), the price of its variants embedding identically; in
a news corpus of any size such words are rare. Words in other scripts are never touched.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Final

from retrieval.arabic import fold_word

_WORD: Final = re.compile(r"[^\W\d_]+")
_ARABIC_WORD: Final = re.compile("[\u0621-\u064a]")
# Orthographic variants only (not ى/ي, which tell على from علي).
_NARROW: Final = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ؤ": "ء", "ئ": "ء"})


def narrow_key(word: str) -> str:
    """One spelling for the alef, hamza-seat and final ta marbuta variants of a word."""
    word = word.translate(_NARROW)
    return word[:-1] + "ه" if word.endswith("ة") else word


class ModelSpelling:
    """How the model's tokenizer vocabulary spells words: for each `narrow_key`, its commonest
    whole-word spelling (SentencePiece ranks pieces by score: a lower rank is more frequent)."""

    def __init__(self, vocabulary: Mapping[str, int]) -> None:
        best: dict[str, tuple[int, str]] = {}
        for word, rank in vocabulary.items():
            key = narrow_key(word)
            if key not in best or rank < best[key][0]:
                best[key] = (rank, word)
        self._by_key = {key: word for key, (_, word) in best.items()}
        self._preferred = frozenset(self._by_key.values())

    def spell(self, word: str) -> str:
        """`word` if it is the vocabulary's preferred spelling of its variants, else that
        spelling, else the canonical `narrow_key` of the word."""
        if word in self._preferred:
            return word
        key = narrow_key(word)
        return self._by_key.get(key, key)


def model_spellings(vocabulary: Mapping[str, int]) -> ModelSpelling:
    """A `ModelSpelling` of an encoder's `vocabulary()`."""
    return ModelSpelling(vocabulary)


class Spelling:
    """fold key -> the corpus's spellings of it, most frequent first (ties: alphabetical).

    Built from word counts, so that an index growing by articles keeps it current with
    `update` instead of re-reading the corpus."""

    def __init__(self, counts: Mapping[str, int]) -> None:
        self._counts: dict[str, int] = {w: n for w, n in counts.items() if n > 0}
        by_key: defaultdict[str, list[str]] = defaultdict(list)
        for word in self._counts:
            by_key[fold_word(word)].append(word)
        self._forms = {key: self._ordered(words) for key, words in by_key.items()}

    def _ordered(self, words: Iterable[str]) -> list[str]:
        return sorted(words, key=lambda w: (-self._counts[w], w))

    @staticmethod
    def count(texts: Iterable[str]) -> Counter[str]:
        """Occurrences of every word of `texts` (already `strip_marks`ed)."""
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(_WORD.findall(text))
        return counts

    @classmethod
    def learn(cls, texts: Iterable[str]) -> Spelling:
        """The spellings of every word of `texts` (already `strip_marks`ed)."""
        return cls(cls.count(texts))

    def update(self, counts: Mapping[str, int]) -> None:
        """Replace the counts of these words (0 removes a word)."""
        touched: defaultdict[str, list[str]] = defaultdict(list)  # fold key -> updated words
        for word, n in counts.items():
            if n > 0:
                self._counts[word] = n
            else:
                self._counts.pop(word, None)
            touched[fold_word(word)].append(word)
        for key, updated in touched.items():
            words = {w for w in self._forms.get(key, ()) if w in self._counts}
            words.update(w for w in updated if w in self._counts)
            if words:
                self._forms[key] = self._ordered(words)
            else:
                self._forms.pop(key, None)

    def respell(self, text: str, model: ModelSpelling | None = None) -> str:
        """`text` with its words spelled as the corpus, else the model (`model_spellings`),
        else `narrow_key` spells them."""

        def fix(match: re.Match[str]) -> str:
            word = match.group(0)
            if not _ARABIC_WORD.match(word):  # Latin and other scripts: as typed
                return word
            forms = self._forms.get(fold_word(word))
            if forms:
                return word if word in forms else forms[0]
            return model.spell(word) if model is not None else narrow_key(word)

        return _WORD.sub(fix, text)

    def __len__(self) -> int:
        return len(self._forms)
