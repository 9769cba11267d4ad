"""Arabic text analysis shared by indexing and querying: normalize, tokenize, stem, stop words."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Final

from retrieval.lexicon import protected_terms

# Harakat, tanween, shadda, sukun, superscript alef, Quranic annotation marks, tatweel.
_DIACRITICS: Final = "\u0610-\u061a\u0640\u064b-\u065f\u0670\u06d6-\u06ed"
# Zero-width characters, soft hyphen, bidi marks and isolates, Arabic letter mark, BOM.
_INVISIBLE: Final = "\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff"
_DELETE: Final = re.compile(f"[{_DIACRITICS}{_INVISIBLE}]+")
_LETTERS: Final = (
    ("أ", "ا"),
    ("إ", "ا"),
    ("آ", "ا"),
    ("ٱ", "ا"),
    ("ى", "ي"),
    ("ة", "ه"),
    ("ی", "ي"),  # Persian yeh
    ("ک", "ك"),  # Persian keheh
    # Hamza seats: Saudi papers print both الشئون and الشؤون, مسئول and مسؤول. Folding both
    # seats to a bare hamza: ARCD-train lexical MRR@10 0.822 -> 0.823 (to و/ي: 0.822).
    ("ؤ", "ء"),
    ("ئ", "ء"),
)
_EASTERN_DIGITS: Final = re.compile("[\u0660-\u0669\u06f0-\u06f9]")
_DIGITS: Final = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
# After folding: anything that is not a letter or digit separates tokens.
_SEPARATOR: Final = re.compile(r"[\W_]+")
# Runs of letters or runs of digits: "عام2017" is two tokens.
_TOKEN: Final = re.compile(r"[^\W\d_]+|\d+")


def strip_marks(text: str) -> str:
    """NFKC, without harakat, tatweel or invisible marks: the same words, one spelling of their
    vocalization. What the encoder sees of questions and passages (ARCD-train dense
    recall@1 0.801 -> 0.808, hybrid 0.882 -> 0.886; folding letters too: 0.792 / 0.877)."""
    return _DELETE.sub("", unicodedata.normalize("NFKC", text))


def _fold(text: str) -> str:
    # NFKC folds presentation forms (ﻻ -> لا) and full-width Latin; it keeps harakat.
    text = _DELETE.sub("", unicodedata.normalize("NFKC", text))
    # A few C-speed replace passes beat one str.translate, which is slow on non-ASCII text.
    for variant, letter in _LETTERS:
        text = text.replace(variant, letter)
    if _EASTERN_DIGITS.search(text):
        text = text.translate(_DIGITS)
    return text.lower()


def fold_word(word: str) -> str:
    """The spelling-variant key of one word: marks stripped, letter variants folded."""
    return _fold(word)


def normalize(text: str) -> str:
    """Fold spelling variants so that index and query text compare equal; punctuation -> space."""
    return " ".join(_SEPARATOR.sub(" ", _fold(text)).split())


def tokenize(text: str) -> list[str]:
    """Normalized tokens of `text`: runs of letters and runs of digits."""
    return _TOKEN.findall(_fold(text))


# Definite article with its attached conjunctions/prepositions, longest first.
_ARTICLES: Final = ("وال", "بال", "كال", "فال", "لل", "ال")
# Pronoun and plural/dual/nisba endings (after normalize: ة -> ه, so "يه" covers ية), longest first.
_SUFFIXES: Final = ("هما", "كما", "هم", "هن", "كم", "ها", "نا", "ات", "ون", "ين", "ان", "يه", "ه")
# Shortest stem a suffix may leave; shorter words are kept whole.
_MIN_STEM: Final = 3
# The divine name with its clitics: stripping "ال" would leave the stop word "له".
_ALLAH: Final = frozenset(("الله", "والله", "بالله", "فالله", "لله", "ولله", "فلله", "تالله"))
# Names and numbers kept whole once their article is stripped (retrieval/lexicon.py).
_PROTECTED: Final = {normalize(word): normalize(term) for word, term in protected_terms().items()}


def _strip_article(token: str) -> str:
    for prefix in _ARTICLES:
        if token.startswith(prefix) and len(token) - len(prefix) >= 2:
            return token[len(prefix) :]
    return token


def light_stem(token: str) -> str:
    """Strip one proclitic group and one suffix from a normalized token (a light stemmer).

    Against Snowball Arabic and ISRI roots on ARCD-train it is within noise in hybrid retrieval,
    several times faster than ISRI, and merges fewer unrelated words than root extraction.
    """
    if token in _ALLAH:
        return "الله"
    stem = _strip_article(token)
    if stem == token and token.startswith("و") and len(token) >= 4:
        stem = _strip_article(token[1:])
    protected = _PROTECTED.get(stem) or _PROTECTED.get(token)
    if protected is not None:
        return protected
    for suffix in _SUFFIXES:
        if stem.endswith(suffix) and len(stem) - len(suffix) >= _MIN_STEM:
            return stem[: -len(suffix)]
    return stem


# Interrogatives and question-template verbs: they ask rather than say (query side only).
_QUESTION_WORDS = """
ما ماذا من متى أين كيف كم لماذا لما لم هل أي أية أيه أيها ايش شو وش
كيفية مدى اذكر أذكر اشرح وضح
"""

# Function words: particles, prepositions, pronouns, demonstratives, relatives, auxiliaries.
# "ال" alone is never a word (a stray article), so it is noise on either side.
_FUNCTION_WORDS = """
ال في فى على إلى عن مع من منذ مذ حتى لدى عند بين خلال ضد نحو تحت فوق
أمام وراء بعد قبل حول دون عبر لدن غير سوى بدون ضمن بشأن بخصوص إزاء تجاه حيال
و أو ثم ف بل لكن ولكن أم إما أن إن أنّ إنّ كأن لأن كي لكي
لا لم لن ليس ليست قد لقد سوف إذ إذا إذن لو لولا كلا نعم بلى
هو هي هم هن هما أنا نحن أنت أنتم أنتن
هذا هذه هذان هاتان هؤلاء ذلك تلك ذاك أولئك هنا هناك هنالك
الذي التي الذين اللذان اللتان اللاتي اللائي اللواتي
كان كانت كانوا يكون تكون يكونوا أصبح أصبحت ظل ظلت بات صار ليسوا
كل بعض جميع أي أيضا فقط كما مثل حيث بينما عندما كلما ذات ذو ذي
به بها بهم له لها لهم لهن فيه فيها فيهم منه منها منهم عنه عنها عنهم عليه عليها عليهم
إليه إليها معه معها بعضها بعضهم
وهو وهي وهم وفي ومن وعلى وإلى وعن ومع وكان وكانت وقد ولا ولم ولن وأن وإن
أنه أنها إنه إنها لأنه بأن كانا تم يتم
"""

STOP_WORDS: Final[frozenset[str]] = frozenset(normalize(_FUNCTION_WORDS).split())
QUESTION_WORDS: Final[frozenset[str]] = frozenset(normalize(_QUESTION_WORDS).split())

# Changes whenever a rule that shapes index terms changes, so stale lexical indexes are detected.
# Sorted: repr() of a set changes between processes (string hashing is randomized).
_RULES: Final = (
    _DIACRITICS,
    _INVISIBLE,
    _LETTERS,
    _ARTICLES,
    _SUFFIXES,
    _MIN_STEM,
    sorted(_ALLAH),
    sorted(_PROTECTED.items()),
)
ANALYZER_VERSION: Final = (
    "light-1-" + hashlib.sha1(repr((_RULES, sorted(STOP_WORDS))).encode()).hexdigest()[:10]
)


class _TermMemo(dict[str, str]):
    """token -> index term ("" for a stop word), memoized: analysis runs once per distinct token."""

    def __init__(self, stop: frozenset[str]) -> None:
        super().__init__()
        self._stop = stop

    def __missing__(self, token: str) -> str:
        if len(self) >= _MEMO_LIMIT:
            self.clear()
        term = "" if token in self._stop else light_stem(token)
        if term in self._stop:
            term = ""
        self[token] = term
        return term


# 30k news passages hold ~190k distinct tokens (~35 MB memoized); past the limit, start over.
_MEMO_LIMIT: Final = 1 << 18
_DOCUMENT_TERMS: Final = _TermMemo(STOP_WORDS)
_QUERY_TERMS: Final = _TermMemo(STOP_WORDS | QUESTION_WORDS)


def analyze_document(text: str) -> list[str]:
    """Index terms of a passage: normalized, stop words dropped, light-stemmed."""
    return [term for term in map(_DOCUMENT_TERMS.__getitem__, tokenize(text)) if term]


def analyze_query(text: str) -> list[str]:
    """Search terms of a question: like documents, and question words dropped too."""
    return [term for term in map(_QUERY_TERMS.__getitem__, tokenize(text)) if term]
