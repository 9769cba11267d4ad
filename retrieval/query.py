"""A question as the retriever takes it: the search modes, the cleaning every question gets,
and `Query`, one question of a batch with its options."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from retrieval.errors import EmptyQuery
from retrieval.gate import MIN_RELEVANCE
from retrieval.recency import Recency

Mode = Literal["dense", "lexical", "hybrid"]
MODES: tuple[Mode, ...] = ("dense", "lexical", "hybrid")
# Longest question searched, in characters; longer ones are cut (the bot tells the user). The
# encoder's 512-token window holds about this much Arabic text.
MAX_QUESTION_CHARS = 1000

# Markup pasted into a question (<b>, </a>, <script>) is not part of what is asked: its words
# would only dilute the evidence the answer gate weighs.
_TAG = re.compile(r"</?[A-Za-z][^<>]{0,200}>")


def clean_question(question: str) -> str:
    """Trim and bound a question, drop markup tags; raise EmptyQuery when nothing searchable
    is left."""
    text = " ".join(_TAG.sub(" ", question).split())[:MAX_QUESTION_CHARS]
    if not any(unicodedata.category(ch)[0] in "LN" for ch in text):
        raise EmptyQuery("the question has no letters or digits")
    return text


@dataclass(frozen=True)
class Query:
    """One question for `Retriever.search_many`, with the arguments of `Retriever.search`."""

    question: str
    k: int = 5
    mode: Mode = "hybrid"
    offset: int = 0
    collapse: bool = True
    fold: bool = True
    # How many of the hits get their answer sentence and sentence layout (None: all). The bot
    # asks for a page and a look at the next one, which needs only relevance.
    explain: int | None = None
    # Let the model settle close calls for the first hit's answer sentence (see
    # `Retriever._first_answers`); a bot behind on its questions sheds it to catch up.
    model_sentence: bool = True
    # Encode the question with the model's int8 variant where the encoder has one
    # (`Encoder.encode_queries(quantized=True)`): a third cheaper, its vectors a little less
    # exact; a bot behind on its questions sheds that precision too.
    quantized: bool = False
    # A question asking for the newest news (retrieval/recency.py): `recency.topic` is searched
    # and the relevant hits, those whose relevance reaches `min_relevance` (the bot's
    # MIN_RELEVANCE), come newest first; with no topic, the newest articles.
    recency: Recency | None = None
    min_relevance: float = MIN_RELEVANCE
