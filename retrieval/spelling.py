"""Question words respelled the way the corpus spells them, so that spelling variants of one
question (بشان / بشأن, الهجره / الهجرة, vocalized or not) reach the encoder as the same text.

A word is respelled only when the corpus never writes it that way but does write a variant of
it (same `fold_word` key): «علي» stays «علي» (a name) although «على» is commoner, because the
corpus has both.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from retrieval.arabic import fold_word
from retrieval.errors import IndexCorrupt

_WORD: Final = re.compile(r"[^\W\d_]+")


class Spelling:
    """fold key -> the corpus's spellings of it, most frequent first."""

    def __init__(self, forms: dict[str, list[str]]) -> None:
        self._forms = forms

    @classmethod
    def learn(cls, texts: Iterable[str]) -> Spelling:
        """Count the spellings of every word of `texts` (already `strip_marks`ed)."""
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(_WORD.findall(text))
        by_key: defaultdict[str, list[str]] = defaultdict(list)
        for word, _ in counts.most_common():
            by_key[fold_word(word)].append(word)
        return cls(dict(by_key))

    def respell(self, text: str) -> str:
        """`text` with each word the corpus never spells so replaced by its commonest variant."""

        def fix(match: re.Match[str]) -> str:
            word = match.group(0)
            forms = self._forms.get(fold_word(word))
            return word if not forms or word in forms else forms[0]

        return _WORD.sub(fix, text)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self._forms, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Spelling:
        try:
            forms = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(f"{path}: spelling table unreadable ({exc})") from exc
        return cls(forms)

    def __len__(self) -> int:
        return len(self._forms)
