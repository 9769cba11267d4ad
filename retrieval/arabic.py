"""Arabic text analysis shared by indexing and querying: normalize, tokenize, stem, stop words."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Harakat, tanween, shadda, sukun, superscript alef, Quranic annotation marks.
_DIACRITICS = (
    [chr(c) for c in range(0x0610, 0x061B)]
    + [chr(c) for c in range(0x064B, 0x0660)]
    + ["\u0670"]
    + [chr(c) for c in range(0x06D6, 0x06EE)]
)
# Zero-width characters, soft hyphen, bidi marks and embeddings, Arabic letter mark, BOM.
_INVISIBLE = (
    ["\u00ad", "\u061c", "\u180e", "\ufeff"]
    + [chr(c) for c in range(0x200B, 0x2010)]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2060, 0x2070)]
)
_LETTERS = {
    "\u0640": "",  # tatweel
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ى": "ي",
    "ة": "ه",
    "ی": "ي",  # Persian yeh
    "ک": "ك",  # Persian keheh
}
_DIGITS = {chr(0x0660 + i): str(i) for i in range(10)} | {chr(0x06F0 + i): str(i) for i in range(10)}

_TABLE = str.maketrans(
    {c: None for c in _DIACRITICS + _INVISIBLE} | _LETTERS | _DIGITS  # type: ignore[operator]
)
# After NFKC and the table above: anything that is not a letter, digit or mark separates tokens.
_SEPARATOR = re.compile(r"[\W_]+")
# Runs of letters or runs of digits: "عام2017" is two tokens.
_TOKEN = re.compile(r"\d+|[^\W\d_]+")


def normalize(text: str) -> str:
    """Fold spelling variants so that index and query text compare equal; punctuation -> space."""
    # NFKC folds presentation forms (ﻻ -> لا) and full-width Latin; it keeps harakat.
    text = unicodedata.normalize("NFKC", text).translate(_TABLE).lower()
    return " ".join(_SEPARATOR.sub(" ", text).split())


def tokenize(text: str) -> list[str]:
    """Normalized tokens of `text`: runs of letters and runs of digits."""
    return _TOKEN.findall(normalize(text))


# Words that ask rather than say; never useful as search terms.
_QUESTION_WORDS = """
ما ماذا من متى أين كيف كم لماذا لما لم هل أي أية أيه أيها ايش شو وش
كيفية مدى اذكر أذكر اشرح وضح
"""

# Function words: particles, prepositions, pronouns, demonstratives, relatives, auxiliaries.
_FUNCTION_WORDS = """
في فى على علي إلى الى إلي عن مع من منذ مذ حتى حتي لدى لدي عند بين خلال ضد نحو تحت فوق
أمام وراء بعد قبل حول دون عبر لدن غير سوى بدون ضمن
و أو او ثم ف بل لكن لكنّ لكن ولكن أم إما اما أن إن أنّ إنّ ان كأن لأن لان كي لكي
لا لم لن ليس ليست قد لقد سوف إذ إذا اذا إذن لو لولا كلا نعم بلى
هو هي هم هن هما أنا انا نحن أنت انت أنتم انتم أنتن
هذا هذه هذان هاتان هؤلاء ذلك تلك ذاك أولئك هنا هناك هنالك
الذي التي الذين اللذان اللتان اللاتي اللائي اللواتي
كان كانت كانوا يكون تكون يكونوا أصبح اصبح أصبحت ظل ظلت بات صار ليسوا
كل بعض جميع أي أيضا ايضا فقط كما مثل حيث بينما عندما كلما ذات ذو ذي
به بها بهم له لها لهم لهن فيه فيها فيهم منه منها منهم عنه عنها عنهم عليه عليها عليهم
إليه إليها اليه اليها معه معها بعضها بعضهم
وهو وهي وهم وفي ومن وعلى وإلى والى وعن ومع وكان وكانت وقد ولا ولم ولن وأن وان وإن
أنه انه أنها انها إنه إنها لأنه لانه بأن بان كما كانا تم يتم
"""


@lru_cache(maxsize=1)
def _normalized_set(words: str) -> frozenset[str]:
    return frozenset(normalize(words).split())


def question_words() -> frozenset[str]:
    """Normalized interrogatives and question-template words (dropped from queries)."""
    return _normalized_set(_QUESTION_WORDS)


def stop_words() -> frozenset[str]:
    """Normalized function words (dropped from queries and documents)."""
    return _normalized_set(_FUNCTION_WORDS)
