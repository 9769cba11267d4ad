"""Inline keyboards and their callback data: short, versioned by shape, validated on the way in.

Callback data is at most 64 bytes and comes back from the client untouched, so anyone can forge
it: `parse_callback` accepts only the exact shapes below and returns None for anything else.

    p|<qid>|<offset>[|q]  a page of results for question <qid> starting at <offset>; "q": the
                       question was first searched with int8 vectors (a busy bot's), and its
                       pages are too, so they are ranked as the first page was
    a|<article_id>     the whole article
    v|<qid>|<1 or 0>   feedback on the answer to <qid>
    x|<n>              ask example question n
    u|<follow_id>      stop following a topic (only the follower's own follow is stopped)
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import messages
from bot.format import digits, shorten

MAX_CALLBACK_BYTES = 64
# Characters of a title or question on a button: a phone-wide button (about 330 CSS px at
# Telegram's 15-16 px font) holds about 35 Arabic letters with the emoji and number.
BUTTON_TITLE_CHARS = 30
MAX_OFFSET = 500
_QID = r"[A-Za-z0-9_-]{10}"
_PATTERNS = {
    "p": re.compile(rf"p\|({_QID})\|(\d{{1,3}})(\|q)?", re.ASCII),
    "a": re.compile(r"a\|([1-9]\d{0,11})", re.ASCII),
    "v": re.compile(rf"v\|({_QID})\|([01])", re.ASCII),
    "x": re.compile(r"x\|(\d)", re.ASCII),
    "u": re.compile(r"u\|([1-9]\d{0,11})", re.ASCII),
}


def new_question_id() -> str:
    """A short unguessable id for a question (60 random bits, URL-safe)."""
    return secrets.token_urlsafe(8)[:10]


@dataclass(frozen=True)
class Page:
    question_id: str
    offset: int
    quantized: bool = False  # searched as the first page was (`Query.quantized`)


@dataclass(frozen=True)
class FullArticle:
    article_id: int


@dataclass(frozen=True)
class Vote:
    question_id: str
    helpful: bool


@dataclass(frozen=True)
class Example:
    index: int


@dataclass(frozen=True)
class Unfollow:
    follow_id: int


Action = Page | FullArticle | Vote | Example | Unfollow


def parse_callback(data: str | None) -> Action | None:
    """The action encoded in callback data, or None if it is malformed or out of range."""
    if not data or len(data.encode()) > MAX_CALLBACK_BYTES:
        return None
    pattern = _PATTERNS.get(data[0])
    match = pattern.fullmatch(data) if pattern else None
    if match is None:
        return None
    kind = data[0]
    if kind == "p":
        offset = int(match[2])
        return Page(match[1], offset, match[3] is not None) if offset <= MAX_OFFSET else None
    if kind == "a":
        return FullArticle(int(match[1]))
    if kind == "v":
        return Vote(match[1], match[2] == "1")
    if kind == "u":
        return Unfollow(int(match[1]))
    index = int(match[1])
    return Example(index) if index < len(messages.EXAMPLE_QUESTIONS) else None


def encode(action: Action) -> str:
    """The callback data for an action (the inverse of `parse_callback`)."""
    if isinstance(action, Page):
        return f"p|{action.question_id}|{action.offset}" + ("|q" if action.quantized else "")
    if isinstance(action, FullArticle):
        return f"a|{action.article_id}"
    if isinstance(action, Vote):
        return f"v|{action.question_id}|{int(action.helpful)}"
    if isinstance(action, Unfollow):
        return f"u|{action.follow_id}"
    return f"x|{action.index}"


def _button(text: str, action: Action) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=encode(action))


def full_text_label(rank: int, title: str) -> str:
    """`📄 2. short title…`: names the article, fits a phone-wide button."""
    short = shorten(title, BUTTON_TITLE_CHARS) or messages.UNTITLED
    return messages.BUTTON_FULL_TEXT.format(title=f"{digits(rank)}. {short}")


def answer_keyboard(
    question_id: str,
    articles: Sequence[tuple[int, str]],
    *,
    offset: int,
    page_size: int,
    has_more: bool,
    quantized: bool = False,
) -> InlineKeyboardMarkup:
    """A full-text button per (article id, title), then one row: 👍 / 👎, previous / more
    (pages searched as this one was: `quantized`)."""
    rows = [
        [_button(full_text_label(offset + i + 1, title), FullArticle(article_id))]
        for i, (article_id, title) in enumerate(articles)
    ]
    last = [
        _button(messages.BUTTON_HELPFUL, Vote(question_id, True)),
        _button(messages.BUTTON_UNHELPFUL, Vote(question_id, False)),
    ]
    if offset > 0:
        last.append(
            _button(
                messages.BUTTON_PREVIOUS,
                Page(question_id, max(offset - page_size, 0), quantized),
            )
        )
    if has_more and offset + page_size <= MAX_OFFSET:
        last.append(_button(messages.BUTTON_MORE, Page(question_id, offset + page_size, quantized)))
    rows.append(last)
    return InlineKeyboardMarkup(rows)


def articles_keyboard(articles: Sequence[tuple[int, str]]) -> InlineKeyboardMarkup | None:
    """Full-text buttons for the closest articles of a question without a good answer."""
    if not articles:
        return None
    return InlineKeyboardMarkup(
        [
            [_button(full_text_label(i + 1, title), FullArticle(article_id))]
            for i, (article_id, title) in enumerate(articles)
        ]
    )


def examples_keyboard() -> InlineKeyboardMarkup:
    """One button per example question (tapping asks it); labels shortened to fit a phone."""
    return InlineKeyboardMarkup(
        [
            [_button(shorten(question, BUTTON_TITLE_CHARS), Example(i))]
            for i, question in enumerate(messages.EXAMPLE_QUESTIONS)
        ]
    )


def alert_keyboard(article_id: int, title: str, follow_id: int, topic: str) -> InlineKeyboardMarkup:
    """Under an alert: the whole article, and stop following its topic."""
    return InlineKeyboardMarkup(
        [
            [
                _button(
                    messages.BUTTON_FULL_TEXT.format(
                        title=shorten(title, BUTTON_TITLE_CHARS) or messages.UNTITLED
                    ),
                    FullArticle(article_id),
                )
            ],
            [
                _button(
                    messages.BUTTON_UNFOLLOW.format(topic=shorten(topic, BUTTON_TITLE_CHARS - 8)),
                    Unfollow(follow_id),
                )
            ],
        ]
    )


def numbers_keyboard(article_ids: Sequence[int]) -> InlineKeyboardMarkup | None:
    """One row of full-text buttons «📄 1» «📄 2» … under a numbered list of articles."""
    if not article_ids:
        return None
    return InlineKeyboardMarkup(
        [
            [
                _button(messages.BUTTON_FULL_TEXT.format(title=digits(i + 1)), FullArticle(a))
                for i, a in enumerate(article_ids)
            ]
        ]
    )
