"""Pure parts of the handlers and the answer path: question cleaning, relevance filtering,
answer composition, group addressing, the /add text format and the ingest report."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import Chat, Message, MessageEntity, User

from bot import messages
from bot.admin import format_ingest_report, parse_add_text
from bot.answers import compose_answer, prepare_question, select_relevant
from bot.handlers import addressed_question
from bot.settings import Settings
from retrieval.types import IngestProblem, IngestReport
from tests.test_bot_format import Gate, make_hit, visible

BOT = User(99, "Sanad", is_bot=True, username="SanadTestBot")
ALICE = User(1, "Alice", is_bot=False)
GROUP = Chat(-100, Chat.SUPERGROUP)


def group_message(text: str, *, reply_to: Message | None = None) -> Message:
    entities = []
    start = text.find("@")
    while start >= 0:
        end = start + 1
        while end < len(text) and (text[end].isalnum() or text[end] == "_"):
            end += 1
        entities.append(MessageEntity(MessageEntity.MENTION, start, end - start))
        start = text.find("@", end)
    return Message(
        1,
        datetime.now(UTC),
        GROUP,
        from_user=ALICE,
        text=text,
        entities=entities,
        reply_to_message=reply_to,
    )


def test_group_messages_are_answered_only_when_addressed() -> None:
    assert addressed_question(group_message("مرحباً بالجميع"), "SanadTestBot", 99) is None
    assert addressed_question(group_message("@OtherBot ما الخبر؟"), "SanadTestBot", 99) is None
    mention = group_message("@sanadtestbot ما الخبر؟")
    assert addressed_question(mention, "SanadTestBot", 99) == "ما الخبر؟"
    middle = group_message("يا @SanadTestBot ما الخبر؟ 👍")
    assert addressed_question(middle, "SanadTestBot", 99) == "يا ما الخبر؟ 👍"
    bot_said = Message(2, datetime.now(UTC), GROUP, from_user=BOT, text="جواب")
    reply = group_message("وماذا بعد؟", reply_to=bot_said)
    assert addressed_question(reply, "SanadTestBot", 99) == "وماذا بعد؟"
    human_said = Message(3, datetime.now(UTC), GROUP, from_user=ALICE, text="x")
    assert addressed_question(group_message("رد", reply_to=human_said), "SanadTestBot", 99) is None


def test_prepare_question_truncates_at_a_word_boundary() -> None:
    assert prepare_question("  ما   هي\nالأخبار؟ ", 1000) == ("ما هي الأخبار؟", False)
    question, truncated = prepare_question("سؤال " * 300, 1000)
    assert truncated and len(question) <= 1000 and question.endswith("سؤال")
    assert prepare_question(" \n\t", 1000) == ("", False)


def test_select_relevant_drops_weak_hits_and_renumbers() -> None:
    hits = [
        make_hit(1, evidence=Gate(0.9)),
        make_hit(2, evidence=Gate(0.5)),
        make_hit(3, evidence=Gate(0.88)),
        make_hit(4, dense_score=None, evidence=None),  # lexical-only: no gate
    ]
    # A page comes from its own k ranks only, so "more" (offset + k) never repeats a hit.
    shown, more = select_relevant(hits, 2, 0.8)
    assert [(h.passage_id, h.rank) for h in shown] == [(1, 1)]
    assert more  # hit 3 is relevant and comes next
    shown, more = select_relevant(hits[2:], 2, 0.8, offset=2)
    assert [(h.passage_id, h.rank) for h in shown] == [(3, 3), (4, 4)] and not more
    shown, more = select_relevant(hits[:3], 3, 0.8, offset=3)
    assert [h.rank for h in shown] == [4, 5] and not more
    shown, more = select_relevant(hits, 3, 0.95)
    assert shown == [] and more  # only the lexical-only hit 4, which lies beyond this page
    # a weak hit between strong ones does not hide the next page
    shown, more = select_relevant(
        [make_hit(1), make_hit(2, evidence=Gate(0.1)), make_hit(3)], 1, 0.8
    )
    assert [h.passage_id for h in shown] == [1] and more


def test_compose_answer_or_an_honest_no() -> None:
    settings = Settings(top_k=2, min_relevance=0.8)
    strong = [make_hit(1), make_hit(2), make_hit(3)]
    answer = compose_answer(settings, "abcdefghij", strong, offset=0)
    visible(answer.html)
    assert answer.answered == 2 and answer.markup is not None
    datas = [b.callback_data for row in answer.markup.inline_keyboard for b in row]
    assert "p|abcdefghij|2" in datas and "v|abcdefghij|1" in datas
    weak = [make_hit(i, evidence=Gate(0.3), title=f"عنوان {i}") for i in (1, 2, 3, 4)]
    no = compose_answer(settings, "abcdefghij", weak, offset=0, truncated_at=1000)
    assert no.answered == 0 and messages.NO_ANSWER in no.html and "عنوان 3" in no.html
    assert "عنوان 4" not in no.html
    assert no.markup is not None and len(no.markup.inline_keyboard) == 3
    # closest titles only when they share the question's topic (its words)
    mixed = [
        make_hit(i, evidence=Gate(0.3, coverage=c), title=f"عنوان {i}")
        for i, c in ((1, 0.1), (2, 0.6), (3, 0.0))
    ]
    some = compose_answer(settings, "abcdefghij", mixed, offset=0)
    assert "عنوان 2" in some.html and "عنوان 1" not in some.html and "عنوان 3" not in some.html
    none = compose_answer(settings, "abcdefghij", [mixed[0], mixed[2]], offset=0)
    assert messages.NO_ANSWER_CLOSEST not in none.html and none.markup is None
    assert messages.EXAMPLE_QUESTIONS[1] in none.html  # says how to ask instead


def test_parse_add_text() -> None:
    record = parse_add_text("/add عنوان المقال\nالسطر الأول.\nالسطر الثاني.")
    assert record is not None
    assert (record.title, record.body) == ("عنوان المقال", "السطر الأول.\nالسطر الثاني.")
    assert parse_add_text("/add@SanadTestBot\nعنوان\nنص") is not None
    assert parse_add_text("/add") is None
    assert parse_add_text("/add عنوان بلا نص") is None


def test_ingest_report_lists_outcomes_and_reasons() -> None:
    report = IngestReport(
        added=[5, 6],
        updated=[2],
        unchanged=[1],
        problems=[
            IngestProblem("news.jsonl", 3, "broken JSON <line>"),
            IngestProblem("news.jsonl", 4, "date 'أمس' not understood", skipped=False),
        ],
    )
    lines = format_ingest_report(report)
    text = "\n".join(lines)
    visible(text)
    assert "5، 6" in text and "news.jsonl:3" in text and "&lt;line&gt;" in text
    assert messages.ADD_REJECTED.format(count=1) in lines
    assert messages.ADD_NOTED.format(count=1) in lines and "news.jsonl:4" in text
    assert format_ingest_report(IngestReport([], [], [], [])) == [messages.ADD_NOTHING]


def test_service_accounts_are_keyed_on_the_sending_chat() -> None:
    from telegram import Update

    from bot.state import sender_id

    anonymous = User(1087968824, "Group", is_bot=True, username="GroupAnonymousBot")
    channel_bot = User(136817688, "Channel", is_bot=True, username="Channel_Bot")
    other_group = Chat(-200, Chat.SUPERGROUP)
    channel = Chat(-300, Chat.CHANNEL)

    def update(user: User | None, sender_chat: Chat | None, chat: Chat = GROUP) -> Update:
        message = Message(
            1, datetime.now(UTC), chat, from_user=user, sender_chat=sender_chat, text="x"
        )
        return Update(1, message=message)

    assert sender_id(update(anonymous, GROUP)) == GROUP.id
    assert sender_id(update(anonymous, other_group, other_group)) == other_group.id
    assert sender_id(update(channel_bot, channel)) == channel.id
    assert sender_id(update(ALICE, None)) == ALICE.id
    # a user posting on behalf of a chat is still the user only when Telegram names the user
    assert sender_id(update(ALICE, channel)) == ALICE.id
    assert sender_id(update(None, None)) == GROUP.id
