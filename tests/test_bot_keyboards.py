"""Callback data: short, round-trips, and anything forged or stale is rejected."""

from __future__ import annotations

import pytest

from bot import messages
from bot.keyboards import (
    MAX_CALLBACK_BYTES,
    Example,
    FullArticle,
    Page,
    Vote,
    answer_keyboard,
    articles_keyboard,
    encode,
    examples_keyboard,
    new_question_id,
    parse_callback,
)


def test_question_ids_are_short_and_distinct() -> None:
    ids = {new_question_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 10 for i in ids)


@pytest.mark.parametrize(
    "action",
    [
        Page("abcDEF_-12", 0),
        Page("abcDEF_-12", 500),
        Page("abcDEF_-12", 3, quantized=True),
        FullArticle(1),
        FullArticle(999_999_999_999),
        Vote("abcDEF_-12", True),
        Vote("abcDEF_-12", False),
        Example(0),
    ],
)
def test_actions_round_trip(action: object) -> None:
    data = encode(action)  # type: ignore[arg-type]
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert parse_callback(data) == action


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "p",
        "p|short|0",
        "p|abcDEF_-12|-1",
        "p|abcDEF_-12|501",
        "p|abcDEF_-12|1|x",
        "p|abcDEF_-12|1|q|q",
        "p|abcDEF_-12|1|",
        "p|abcDEF_-1!|0",
        "a|0",
        "a|-3",
        "a|1e5",
        "a|12345678901234",
        "v|abcDEF_-12|2",
        "v|abcDEF_-12|",
        "x|9",
        "x|" + "1" * 70,
        "q|abc",
        "<b>",
        "p|abcDEF_-12|0\n",
        "a|١٢",
        "a|1٢",
        "p|abcDEF_-12|1٢",
    ],
)
def test_forged_or_malformed_data_is_rejected(data: str | None) -> None:
    assert parse_callback(data) is None


def test_answer_keyboard_has_full_text_paging_and_feedback() -> None:
    articles = [
        (7, "عنوان أول"),
        (9, "عنوان ثان طويل جدا يتجاوز عرض الزر على الهاتف بكثير"),
        (11, ""),
    ]
    markup = answer_keyboard("abcDEF_-12", articles, offset=3, page_size=3, has_more=True)
    rows = markup.inline_keyboard
    datas = [b.callback_data for row in rows for b in row]
    assert datas[:3] == ["a|7", "a|9", "a|11"]
    assert "p|abcDEF_-12|0" in datas and "p|abcDEF_-12|6" in datas
    assert datas[3:5] == ["v|abcDEF_-12|1", "v|abcDEF_-12|0"]
    assert [len(row) for row in rows] == [1, 1, 1, 4]  # four rows, not five
    assert rows[0][0].text == "📄 4. عنوان أول"
    assert rows[1][0].text.startswith("📄 5. عنوان ثان") and rows[1][0].text.endswith("…")
    assert len(rows[1][0].text) <= 40 and rows[2][0].text == f"📄 6. {messages.UNTITLED}"
    for data in datas:
        assert parse_callback(str(data)) is not None


def test_pages_of_a_question_searched_with_int8_vectors_say_so() -> None:
    """A busy bot's answer (int8 question vectors) links pages searched the same way, so they
    rank alike: «المزيد» never repeats or skips a hit; a full answer's links say nothing."""
    shed = answer_keyboard(
        "abcDEF_-12", [(1, "ع")], offset=3, page_size=3, has_more=True, quantized=True
    )
    full = answer_keyboard("abcDEF_-12", [(1, "ع")], offset=3, page_size=3, has_more=True)
    pages = [
        [
            parse_callback(str(b.callback_data))
            for row in m.inline_keyboard
            for b in row
            if str(b.callback_data).startswith("p|")
        ]
        for m in (shed, full)
    ]
    assert pages[0] == [Page("abcDEF_-12", 0, True), Page("abcDEF_-12", 6, True)]
    assert pages[1] == [Page("abcDEF_-12", 0), Page("abcDEF_-12", 6)]


def test_first_and_last_pages_have_no_dead_buttons() -> None:
    first = answer_keyboard("abcDEF_-12", [(1, "ع")], offset=0, page_size=3, has_more=False)
    datas = [b.callback_data for row in first.inline_keyboard for b in row]
    assert not any(str(d).startswith("p|") for d in datas)


def test_other_keyboards() -> None:
    assert articles_keyboard([]) is None
    markup = articles_keyboard([(4, "أ"), (5, "ب")])
    assert markup is not None and len(markup.inline_keyboard) == 2
    examples = examples_keyboard().inline_keyboard
    for row, question in zip(examples, messages.EXAMPLE_QUESTIONS, strict=True):
        label = row[0].text
        assert len(label) <= 31 and question.startswith(label.rstrip("…").rstrip())
