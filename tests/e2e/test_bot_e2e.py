"""The real bot process (run_bot.py) with a real Library, over HTTP, against the emulator.

One bot process serves the whole module (the model loads once, ~10 s); every test talks from its
own user and chat ids so tests do not see each other's messages. The corpus is small: the seed
article plus a dozen demo articles, ingested into a fresh SQLite database before the bot starts;
the bot's own start-up (`prepare`) builds the index.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot import messages
from bot.answers import TYPING_AFTER_SECONDS
from bot.records import AdminAction, Feedback, QueryLog
from corpus.ingest import ingest_paths
from corpus.models import Article
from corpus.store import create_db_engine, init_db, make_session_factory
from tests.e2e.harness import DEFAULT_TOKEN, REPO_ROOT, BotMessage, BotProcess, Client, Emulator
from tests.feedsite import FeedSite

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SEED = REPO_ROOT / "corpus" / "data" / "libya-malta-security.txt"
DEMO = REPO_ROOT / "corpus" / "data" / "saudinewsnet_demo200.jsonl"
DEMO_IDS = {
    "snn-08a4abbab95f",  # Bahrain condemns the killing of the Palestinian baby
    "snn-02b8e7262025",  # the baby killed in the arson attack
    "snn-03e931f8ae00",  # Israeli defence minister orders arrests over the arson
    "snn-007e194c33e7",  # opinion: burning Palestinians alive
    "snn-010673f5cee4",  # German super cup
    "snn-02d9c2cd918c",  # Arsenal extends Walcott and Cazorla
    "snn-003d6a888560",  # sitting causes diabetes
    "snn-01222af0e821",  # Khedira out for two months
    "snn-010b73aa7efb",  # local stocks close higher
    "snn-04ee09741eed",  # oil above 50 dollars
    "snn-00730a3321ad",  # two coronavirus cases
    "snn-01fd664cf498",  # floods in Damad
}
ARSENAL_TITLE = "آرسنال يمدد تعاقده مع والكوت وكازورلا قبل مواجهة تشيلسي غدًا"
SEED_TITLE = "تعاون أمني.. الطرابلسي يبحث مع سفير مالطا سبل مكافحة الهجرة غير الشرعية"
MIGRATION = "ما الذي اتفق عليه الجانبان بشأن الهجرة غير الشرعية؟"
ADMINS = (900_001, 900_002, 900_003, 900_004, 900_005)
RLM = "\u200f"
WAIT = 20.0


@dataclass
class Sanad:
    """The running bot and its database."""

    process: BotProcess
    engine: Engine
    sessions: sessionmaker[Session]
    index_dir: Path


@pytest.fixture(scope="module")
def sanad(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sanad]:
    """run_bot.py against the emulator, with a small corpus; its log stays clean."""
    root = tmp_path_factory.mktemp("sanad")
    small = root / "demo-small.jsonl"
    with DEMO.open(encoding="utf-8") as lines:
        small.write_text(
            "".join(line for line in lines if json.loads(line)["id"] in DEMO_IDS), encoding="utf-8"
        )
    database_url = f"sqlite:///{root / 'sanad.db'}"
    engine = create_db_engine(database_url)
    init_db(engine)
    sessions = make_session_factory(engine)
    report = ingest_paths(sessions, [SEED, small])
    assert len(report.added) == len(DEMO_IDS) + 1, report
    env = {
        **emulator.bot_env(),
        "ADMIN_IDS": ",".join(map(str, ADMINS)),
        "DATABASE_URL": database_url,
        "INDEX_DIR": str(root / "index"),
        "TOP_K": "3",
        "RATE_LIMIT_PER_MINUTE": "20",
        "ENV_FILE": str(root / "no.env"),  # never the developer's .env
        "LOG_LEVEL": "INFO",
        "FEED_ALLOW_PRIVATE_NETWORKS": "1",  # the test news site is on 127.0.0.1
    }
    with emulator.client() as client:
        process = BotProcess.python_script(
            REPO_ROOT / "run_bot.py",
            env=env,
            log_path=root / "bot.log",
            ready=client.is_polling,
            startup_timeout=300,
        )
        with process:
            yield Sanad(process, engine, sessions, root / "index")
    log = process.log()
    assert process.returncode == 0, process.tail()
    assert "Traceback" not in log, process.tail(80)
    assert DEFAULT_TOKEN.split(":")[1] not in log


# --- helpers ----------------------------------------------------------------------------------
# Visible characters of a first answer page (three results): about one phone screen.
PAGE_BUDGET = 1000


def ask(
    tg: Client,
    text: str,
    user: int,
    *,
    chat: int | None = None,
    chat_type: str = "private",
    reply_to: int | None = None,
) -> BotMessage:
    """Send a message and return the bot's next message in that chat."""
    chat_id = chat if chat is not None else user
    before = len(tg.bot_messages(chat_id))
    tg.send_message(text, user_id=user, chat_id=chat, chat_type=chat_type, reply_to=reply_to)
    return tg.wait_for_bot_messages(chat_id, before + 1, timeout=WAIT)[before]


def command(tg: Client, name: str, *args: str, user: int) -> BotMessage:
    before = len(tg.bot_messages(user))
    tg.send_command(name, *args, user_id=user)
    return tg.wait_for_bot_messages(user, before + 1, timeout=WAIT)[before]


def button(message: BotMessage, prefix: str) -> str:
    return next(d for d in message.callback_data if d.startswith(prefix))


def toast(tg: Client, query_id: str) -> str:
    answer = tg.wait_until(lambda: tg.callback_answer(query_id), WAIT, what="callback answer")
    assert answer is not None
    return str(answer.get("text") or "")


def inline_results(tg: Client, query_id: str) -> list[dict[str, Any]]:
    answer = tg.wait_until(lambda: tg.inline_answer(query_id), WAIT, what="inline answer")
    assert answer is not None
    return list(answer["results"])


def quiet(tg: Client, chat: int, count: int, seconds: float = 1.5) -> None:
    """Assert the chat still has `count` bot messages after a while."""
    time.sleep(seconds)
    assert len(tg.bot_messages(chat)) == count


def entity_texts(message: BotMessage, kind: str) -> list[str]:
    """The text under each entity of a kind (offsets count UTF-16 code units)."""
    encoded = (message.text or "").encode("utf-16-le")
    return [
        encoded[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")
        for e in message.entities
        if e["type"] == kind
    ]


def visible_lines(message: BotMessage) -> list[str]:
    return [line.lstrip(RLM) for line in (message.text or "").split("\n")]


# --- users ------------------------------------------------------------------------------------
def test_start_says_what_the_bot_knows_with_example_buttons(
    tg: Client, sanad: Sanad, user_id: int
) -> None:
    reply = command(tg, "start", user=user_id)
    assert "سَنَد" in (reply.text or "")
    assert "أعرف مقالات عددها 13" in (reply.text or "")
    labels = [b["text"] for b in reply.buttons]
    assert len(labels) == len(messages.EXAMPLE_QUESTIONS)
    for label, question in zip(labels, messages.EXAMPLE_QUESTIONS, strict=True):
        assert len(label) <= 31 and question.startswith(label.rstrip("…"))  # fits a phone
    public = ["start", "help", "ask", "latest", "follow", "following", "unfollow"]
    assert [c["command"] for c in tg.my_commands()] == public
    admin_scope = {"type": "chat", "chat_id": ADMINS[0]}
    assert {"reindex", "feed"} <= {c["command"] for c in tg.my_commands(admin_scope)}


def test_example_button_asks_the_question(tg: Client, sanad: Sanad, user_id: int) -> None:
    welcome = command(tg, "help", user=user_id)
    query = tg.press_button(welcome, "x|0", user_id)
    [_, answer] = tg.wait_for_bot_messages(user_id, 2, timeout=WAIT)
    assert toast(tg, query) == ""
    assert SEED_TITLE in (answer.text or "")


def test_question_is_answered_with_the_right_article_and_citation(
    tg: Client, sanad: Sanad, user_id: int
) -> None:
    started = time.monotonic()
    reply = ask(tg, MIGRATION, user_id)
    took = time.monotonic() - started
    lines = visible_lines(reply)
    assert lines[0] == messages.ANSWER_HEADER
    assert lines[1].startswith("1.")
    first_citation = next(line for line in lines if line.startswith("📰"))
    assert SEED_TITLE in first_citation
    bold = entity_texts(reply, "bold")
    seed_text = " ".join(SEED.read_text(encoding="utf-8").split())
    assert any(len(b.strip()) > 10 and " ".join(b.split()) in seed_text for b in bold[1:]), bold
    if took < TYPING_AFTER_SECONDS:  # answered at once: no "typing…" first (one request less)
        assert tg.chat_actions(user_id) == []
    # whole sentences: the lead-in that says what was agreed, with the agreed measures
    text = (reply.text or "").translate({0x2066: None, 0x2069: None})
    assert "حيث تم الاتفاق على تعزيز التنسيق الميداني" in text
    assert "• إنشاء غرفة عمليات مشتركة" in text or "• تحسين آليات المراقبة" in text
    assert len(text) <= PAGE_BUDGET, len(text)
    assert reply.raw.get("link_preview_options", {}).get("is_disabled", True)
    assert "a|" in " ".join(reply.callback_data) and "v|" in " ".join(reply.callback_data)
    with sanad.sessions() as session:
        row = session.scalars(select(QueryLog).where(QueryLog.question == MIGRATION)).first()
    assert row is not None and row.answered >= 1 and row.latency_ms > 0
    assert str(user_id) not in row.user_hash and len(row.user_hash) == 64


def test_html_in_a_question_is_harmless(tg: Client, sanad: Sanad, user_id: int) -> None:
    reply = ask(tg, '<b>الهجرة</b> غير الشرعية & <a href="x">مالطا</a> <script>؟', user_id)
    assert (reply.text or "").lstrip(RLM).startswith(messages.ANSWER_HEADER)
    assert "<script>" not in (reply.sent_text or "")


def test_more_results_edit_the_same_message_and_go_back(
    tg: Client, sanad: Sanad, user_id: int
) -> None:
    # four articles on the arson: the fourth is on the next page (its tag line, which repeated
    # the question's words, is boilerplate and no longer counts)
    reply = ask(tg, "إحراق الرضيع الفلسطيني على يد مستوطنين إسرائيليين", user_id)
    more = button(reply, "p|")
    query = tg.press_button(reply, more, user_id)
    assert toast(tg, query) == ""
    [page] = tg.wait_until(lambda: [m for m in tg.bot_messages(user_id) if m.edits == 1], WAIT)
    assert page.message_id == reply.message_id and len(tg.bot_messages(user_id)) == 1
    assert visible_lines(page)[0].startswith("🔎 النتائج من 4")
    assert visible_lines(page)[1].startswith("4.")
    back = button(page, "p|")
    assert back.endswith("|0")
    tg.press_button(page, back, user_id)
    [first] = tg.wait_until(lambda: [m for m in tg.bot_messages(user_id) if m.edits == 2], WAIT)
    assert first.text == reply.text


def test_full_text_of_a_5000_character_article_comes_in_parts(
    tg: Client, sanad: Sanad, user_id: int
) -> None:
    reply = ask(tg, "كم يبلغ راتب والكوت الأسبوعي مع آرسنال؟", user_id)
    assert ARSENAL_TITLE in (reply.text or "")
    query = tg.press_button(reply, button(reply, "a|"), user_id)
    parts = tg.wait_for_bot_messages(user_id, 3, timeout=WAIT)[1:]
    assert toast(tg, query) == ""
    quiet(tg, user_id, 3, seconds=0.5)
    assert all(len(p.text or "") <= 4096 and len(p.sent_text or "") <= 4096 for p in parts)
    assert ARSENAL_TITLE in (parts[0].text or "")
    assert "(الجزء 1 من 2)" in (parts[0].text or "")
    assert "(الجزء 2 من 2)" in (parts[1].text or "")
    with sanad.sessions() as session:
        article = session.scalars(select(Article).where(Article.title == ARSENAL_TITLE)).one()
    assert len(article.body) > 5000
    texts = [" ".join((p.text or "").replace(RLM, "").split()) for p in parts]
    for line in filter(str.strip, article.body.splitlines()):  # never cut inside a paragraph
        assert sum(" ".join(line.split()) in text for text in texts) == 1, line


def test_feedback_is_stored_and_acknowledged(tg: Client, sanad: Sanad, user_id: int) -> None:
    reply = ask(tg, "كم سيغيب سامي خضيرة عن الملاعب؟", user_id)
    vote = button(reply, "v|")
    assert toast(tg, tg.press_button(reply, vote, user_id)) == messages.TOAST_THANKS_HELPFUL
    question_id = vote.split("|")[1]
    with sanad.sessions() as session:
        stored = session.scalars(select(Feedback).where(Feedback.question_id == question_id)).all()
    assert [f.helpful for f in stored] == [True]


def test_unrelated_question_gets_an_honest_no_without_unrelated_titles(
    tg: Client, sanad: Sanad, user_id: int
) -> None:
    reply = ask(tg, "كيف أكتب دالة تكرارية بلغة بايثون؟", user_id)
    text = reply.text or ""
    assert messages.NO_ANSWER in text and messages.NO_ANSWER_CLOSEST not in text
    assert messages.EXAMPLE_QUESTIONS[1] in text  # how to ask instead
    assert "📰" not in text and not reply.callback_data  # no passages, no unrelated articles


# --- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["   ", "😀🎉👍", "؟؟ !! ... ،،"])
def test_text_without_words_gets_a_polite_reply(
    tg: Client, sanad: Sanad, user_id: int, text: str
) -> None:
    reply = ask(tg, text, user_id)
    assert (reply.text or "").startswith("لم أجد في رسالتك كلمات")


def test_overlong_question_answers_its_start_and_says_so(
    tg: Client, sanad: Sanad, user_id: int
) -> None:
    question = " ".join([MIGRATION] * 25)
    assert len(question) > 1000
    reply = ask(tg, question, user_id)
    lines = visible_lines(reply)
    assert lines[0] == messages.QUESTION_TRUNCATED.format(limit="1000")
    assert SEED_TITLE in (reply.text or "")


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice", "video", "audio"])
def test_media_gets_a_text_only_reply(tg: Client, sanad: Sanad, user_id: int, kind: str) -> None:
    tg.send_media(kind, b"\x00\x01binary", user_id=user_id, file_name=f"x.{kind}")
    [reply] = tg.wait_for_bot_messages(user_id, 1, timeout=WAIT)
    assert reply.text == messages.TEXT_ONLY


def test_files_from_non_admins_are_refused(tg: Client, sanad: Sanad, user_id: int) -> None:
    with sanad.sessions() as session:
        before = session.scalar(select(func.count(Article.id)))
    tg.send_document(b"title\nbody", "news.txt", user_id=user_id)
    tg.send_document(b"title\nbody", "news.txt", user_id=user_id, caption="/add")
    replies = tg.wait_for_bot_messages(user_id, 2, timeout=WAIT)
    assert {r.text for r in replies} == {messages.FILES_ADMINS_ONLY, messages.ADMINS_ONLY}
    with sanad.sessions() as session:
        assert session.scalar(select(func.count(Article.id))) == before


def test_edited_message_gets_a_polite_note(tg: Client, sanad: Sanad, user_id: int) -> None:
    asked = tg.send_message("كم بلغ سعر برميل النفط؟", user_id=user_id)
    tg.wait_for_bot_messages(user_id, 1, timeout=WAIT)
    tg.edit_message(asked, "كم بلغ سعر برميل النفط اليوم؟", user_id=user_id)
    assert tg.wait_for_bot_messages(user_id, 2, timeout=WAIT)[1].text == messages.EDITED_MESSAGE


def test_unknown_command(tg: Client, sanad: Sanad, user_id: int) -> None:
    assert command(tg, "weather", "الرياض", user=user_id).text == messages.UNKNOWN_COMMAND


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("hack|1", messages.TOAST_INVALID),
        ("p|" + "A" * 10 + "|999", messages.TOAST_INVALID),
        ("p|" + "A" * 10 + "|3", messages.TOAST_STALE),
        ("v|" + "A" * 10 + "|1", messages.TOAST_STALE),
        ("a|999999", messages.TOAST_ARTICLE_GONE),
    ],
)
def test_stale_or_forged_callback_data_gets_a_toast(
    tg: Client, sanad: Sanad, user_id: int, data: str, expected: str
) -> None:
    markup = {"inline_keyboard": [[{"text": "زر", "callback_data": data}]]}
    sent = tg.bot_api("sendMessage", chat_id=user_id, text="رسالة قديمة", reply_markup=markup)
    assert sent.json()["ok"], sent.text
    [old] = tg.bot_messages(user_id)
    assert toast(tg, tg.press_button(old, data, user_id)) == expected
    quiet(tg, user_id, 1, seconds=0.5)


def test_rate_limit_is_friendly(tg: Client, sanad: Sanad, user_id: int) -> None:
    for n in range(22):
        tg.send_message(f"كم بلغ سعر برميل النفط؟ {n}", user_id=user_id)
    replies = tg.wait_for_bot_messages(user_id, 21, timeout=60)
    quiet(tg, user_id, 21)
    limited = [r for r in replies if (r.text or "").startswith("أرسلت أسئلة كثيرة")]
    assert len(limited) == 1  # said once per burst, not once per message
    assert len([r for r in replies if "📰" in (r.text or "")]) == 20


def test_flood_control_429_is_retried(tg: Client, sanad: Sanad, user_id: int) -> None:
    before = tg.calls().get("sendMessage", 0)
    tg.inject_flood("sendMessage", count=1, retry_after=1)
    started = time.monotonic()
    reply = ask(tg, "كم بلغ سعر برميل النفط؟", user_id)
    assert time.monotonic() - started >= 1.0
    assert "📰" in (reply.text or "")
    assert tg.calls()["sendMessage"] - before == 2


# --- groups and inline mode -------------------------------------------------------------------
def test_in_groups_only_ask_mentions_and_replies_are_answered(
    tg: Client, sanad: Sanad, user_id: int
) -> None:
    group = -user_id
    tg.send_message(
        "كم بلغ سعر برميل النفط؟", user_id=user_id, chat_id=group, chat_type="supergroup"
    )
    quiet(tg, group, 0)
    by_command = ask(
        tg, "/ask كم بلغ سعر برميل النفط؟", user_id, chat=group, chat_type="supergroup"
    )
    assert "النفط" in (by_command.text or "")
    assert by_command.raw["reply_to_message"]["from"]["id"] == user_id
    mention = ask(
        tg, f"@{tg.bot_username} {MIGRATION}", user_id, chat=group, chat_type="supergroup"
    )
    assert SEED_TITLE in (mention.text or "")
    reply = ask(
        tg,
        "كم سيغيب سامي خضيرة عن الملاعب؟",
        user_id,
        chat=group,
        chat_type="supergroup",
        reply_to=mention.message_id,
    )
    assert "خضيرة" in (reply.text or "")
    tg.send_message("😀", user_id=user_id, chat_id=group, chat_type="supergroup")
    tg.send_media("sticker", b"x", user_id=user_id, chat_id=group, chat_type="supergroup")
    quiet(tg, group, 3)


def test_inline_mode_lists_passages_with_citations(tg: Client, sanad: Sanad, user_id: int) -> None:
    query = tg.send_inline_query(MIGRATION, user_id=user_id)
    results = inline_results(tg, query)
    assert results and results[0]["title"] == SEED_TITLE
    content = results[0]["input_message_content"]
    assert content["parse_mode"] == "HTML" and "📰" in content["message_text"]
    empty = tg.send_inline_query("   ", user_id=user_id)
    assert inline_results(tg, empty) == []


# --- admins -----------------------------------------------------------------------------------
NEW_TITLE = "مهرجان <التمور> الدولي & «سند»"
NEW_BODY = (
    "أعلنت اللجنة المنظمة أن مهرجان التمور الدولي السابع سيقام في مدينة سند الجديدة خلال شهر "
    "أكتوبر، بمشاركة مئة وعشرين مزارعاً من تسع دول. وقالت اللجنة إن الجائزة الكبرى لأفضل تمر "
    "في المهرجان ستبلغ خمسين ألف ريال، وإن التسجيل يبدأ مطلع الشهر المقبل."
)
DATES = "كم تبلغ الجائزة الكبرى في مهرجان التمور الدولي؟"


def test_admin_adds_an_article_then_it_answers_and_delete_removes_it(
    tg: Client, sanad: Sanad, user_id: int
) -> None:
    admin = ADMINS[0]
    assert "مهرجان" not in (ask(tg, DATES, user_id).text or "")
    added = command(tg, "add", f"{NEW_TITLE}\n{NEW_BODY}", user=admin)
    assert "✅ أضيف: 1" in (added.text or "") and messages.ADD_INDEXED in (added.text or "")
    article_id = re.search(r"\((\d+)\)", added.text or "")
    assert article_id
    answer = ask(tg, DATES, user_id)
    first = next(line for line in visible_lines(answer) if line.startswith("📰"))
    assert NEW_TITLE in first  # corpus text is escaped, so it shows verbatim
    assert "مهرجان &lt;التمور&gt; الدولي &amp; «سند»" in (answer.sent_text or "")
    deleted = command(tg, "delete", article_id[1], user=admin)
    assert deleted.text == messages.DELETE_DONE.format(article_id=article_id[1])
    assert "مهرجان" not in (ask(tg, DATES, user_id).text or "")
    with sanad.sessions() as session:
        actions = session.scalars(select(AdminAction.action).order_by(AdminAction.id)).all()
    assert actions[-2:] == ["add", "delete"]


@pytest.mark.parametrize("argument", ["²", "٣", "9" * 30, "12abc"])
def test_delete_with_a_malformed_id_shows_the_usage(tg: Client, argument: str) -> None:
    reply = command(tg, "delete", argument, user=ADMINS[0])
    assert reply.text == messages.DELETE_USAGE


def test_admin_adds_a_jsonl_document_and_hears_what_was_rejected(
    tg: Client, sanad: Sanad, user_id: int
) -> None:
    admin = ADMINS[1]
    good = {
        "title": "افتتاح جسر الصداقة العائم في بحيرة سند",
        "text": "افتتح أمس جسر الصداقة "
        "العائم في بحيرة سند بطول ثلاثمئة متر، وقال المهندس المسؤول إن الجسر صُنع من "
        "البلاستيك المعاد تدويره ويتحمل ألف زائر في وقت واحد.",
        "source": "وكالة سند",
    }
    content = (json.dumps(good, ensure_ascii=False) + "\n{broken json\n").encode()
    tg.send_document(content, "news.jsonl", user_id=admin, caption="/add")
    [report] = tg.wait_until(
        lambda: [m for m in tg.bot_messages(admin) if "رُفض" in (m.text or "")], WAIT * 2
    )
    assert "✅ أضيف: 1" in (report.text or "") and "news.jsonl:2" in (report.text or "")
    answer = ask(tg, "مم صُنع جسر الصداقة العائم؟", user_id)
    assert good["title"] in (answer.text or "")


def test_admin_replies_add_to_a_document(tg: Client, sanad: Sanad, user_id: int) -> None:
    admin = ADMINS[2]
    text = "سوق الكتب المستعملة في حي سند\n\nافتتحت البلدية سوقاً أسبوعية للكتب المستعملة."
    doc = tg.send_document(text.encode(), "market.txt", user_id=admin)
    [hint] = tg.wait_for_bot_messages(admin, 1, timeout=WAIT)
    assert hint.text == messages.ADD_DOCUMENT_HINT
    report = ask(tg, "/add", admin, reply_to=doc)
    assert "✅ أضيف: 1" in (report.text or "")


def test_reindex_while_another_user_keeps_asking(tg: Client, sanad: Sanad, user_id: int) -> None:
    admin = ADMINS[3]
    status = command(tg, "reindex", "full", user=admin)  # re-embeds: long enough to ask during
    assert status.text == messages.REINDEX_STARTED
    busy = command(tg, "reindex", user=admin)
    assert busy.text == messages.REINDEX_BUSY
    asked = during = 0
    # ten questions a user at most: under the per-user rate limit however long the build takes
    askers = [user_id * 100 + i for i in range(20)]
    while True:
        finished = "✅" in (tg.bot_messages(admin)[0].text or "")
        reply = ask(tg, MIGRATION, askers[asked // 10])
        asked += 1
        assert SEED_TITLE in (reply.text or ""), reply.text
        if finished:
            break
        during += 1
        assert asked < 200
    assert during >= 1, "no question was asked while the index was being rebuilt"
    assert (tg.bot_messages(admin)[0].text or "").startswith("✅ اكتملت إعادة بناء الفهرس")
    with sanad.sessions() as session:
        assert session.scalars(select(AdminAction.action)).all().count("reindex") == 1
    assert command(tg, "reindex", "quickly", user=admin).text == messages.REINDEX_USAGE


def test_a_burst_from_many_users_is_answered_in_every_chat(
    tg: Client, sanad: Sanad, user_id: int
) -> None:
    # Sent at once, the questions are searched in shared batches (bot/searches.py): each
    # answer must still reach its own asker.
    asked = {MIGRATION: SEED_TITLE, "كم يبلغ راتب والكوت الأسبوعي مع آرسنال؟": ARSENAL_TITLE}
    users = [user_id * 100 + i for i in range(16)]
    expected = {}
    for n, user in enumerate(users):
        question = list(asked)[n % 2]
        tg.send_message(question, user_id=user)
        expected[user] = asked[question]
    for user in users:
        [reply] = tg.wait_for_bot_messages(user, 1, timeout=60)
        assert expected[user] in (reply.text or ""), reply.text
        assert "📰" in (reply.text or "")


def test_stats_for_admins(tg: Client, sanad: Sanad, user_id: int) -> None:
    ask(tg, MIGRATION, user_id)
    stats = command(tg, "stats", user=ADMINS[4])
    text = stats.text or ""
    assert "إحصاءات سَنَد" in text and "الأسئلة اليوم" in text and "👍" in text
    assert re.search(r"الوسيط [0-9]+ مللي ثانية", text)


@pytest.mark.parametrize("name", ["add", "delete", "reindex", "stats"])
def test_admin_commands_refuse_non_admins(
    tg: Client, sanad: Sanad, user_id: int, name: str
) -> None:
    with sanad.sessions() as session:
        actions = session.scalar(select(func.count(AdminAction.id)))
        articles = session.scalar(select(func.count(Article.id)))
    args = {"add": ["عنوان\nنص"], "delete": ["1"]}.get(name, [])
    assert command(tg, name, *args, user=user_id).text == messages.ADMINS_ONLY
    with sanad.sessions() as session:
        assert session.scalar(select(func.count(AdminAction.id))) == actions
        assert session.scalar(select(func.count(Article.id))) == articles


def test_token_never_reaches_the_log(sanad: Sanad) -> None:
    log = sanad.process.log()
    assert DEFAULT_TOKEN not in log and DEFAULT_TOKEN.split(":")[1] not in log
    assert "library loaded" in log


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def another_bot(
    emulator: Emulator, client: Client, sanad: Sanad, tmp_path: Path, token: str, **env: str
) -> BotProcess:
    """A second run_bot.py on the same database and index, under its own token."""
    return BotProcess.python_script(
        REPO_ROOT / "run_bot.py",
        env={
            **emulator.bot_env(token),
            "DATABASE_URL": str(sanad.engine.url),
            "INDEX_DIR": str(sanad.index_dir),
            "ENV_FILE": str(tmp_path / "no.env"),
            **env,
        },
        log_path=tmp_path / "bot.log",
        ready=client.is_polling
        if "WEBHOOK_URL" not in env
        else lambda: bool(client.state()["webhook"]),
        startup_timeout=300,
    )


def test_webhook_mode(emulator: Emulator, sanad: Sanad, tmp_path: Path, user_id: int) -> None:
    """With WEBHOOK_URL set, run_bot.py takes updates by webhook instead of polling."""
    token = "987654321:sanad-webhook-test-token"
    port = _free_port()
    with emulator.client(token) as client:
        process = another_bot(
            emulator,
            client,
            sanad,
            tmp_path,
            token,
            WEBHOOK_URL=f"http://127.0.0.1:{port}/sanad-hook",
            WEBHOOK_LISTEN="127.0.0.1",
            WEBHOOK_PORT=str(port),
        )
        with process:
            reply = ask(client, MIGRATION, user_id)
        calls = client.calls()
    assert SEED_TITLE in (reply.text or "")
    assert "setWebhook" in calls and "getUpdates" not in calls
    assert process.returncode == 0, process.tail()
    assert "Traceback" not in process.log() and token.split(":")[1] not in process.log()


GROUP_ANONYMOUS_BOT = 1087968824  # Telegram's sender of every anonymous admin's message
ANONYMOUS = {"is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}


def test_anonymous_admins_of_two_groups_are_not_one_user(
    emulator: Emulator, sanad: Sanad, tmp_path: Path, user_id: int
) -> None:
    """Every anonymous admin is @GroupAnonymousBot: limits must be per sending chat."""
    token = "987654322:sanad-anonymous-test-token"
    first, second = -(10**12) - user_id, -(10**12) - user_id - 1

    def anonymous_ask(client: Client, group: int, question: str) -> None:
        client.send_message(
            f"/ask {question}",
            user_id=GROUP_ANONYMOUS_BOT,
            chat_id=group,
            chat_type="supergroup",
            sender={**ANONYMOUS, "sender_chat": True},
        )

    with emulator.client(token) as client:
        process = another_bot(emulator, client, sanad, tmp_path, token, RATE_LIMIT_PER_MINUTE="3")
        with process:
            for n in range(4):
                anonymous_ask(client, first, f"كم بلغ سعر برميل النفط؟ {n}")
            replies = client.wait_for_bot_messages(first, 4, timeout=WAIT)
            anonymous_ask(client, second, "كم بلغ سعر برميل النفط؟")
            [other] = client.wait_for_bot_messages(second, 1, timeout=WAIT)
            anonymous_ask(client, second, "كم سيغيب سامي خضيرة عن الملاعب؟")
            again = client.wait_for_bot_messages(second, 2, timeout=WAIT)[1]
    assert [("📰" in (r.text or "")) for r in replies].count(True) == 3
    assert any((r.text or "").startswith("أرسلت أسئلة كثيرة") for r in replies)
    # another group's anonymous admin is not "the same user": answered, twice
    assert "📰" in (other.text or "") and "خضيرة" in (again.text or "")
    assert process.returncode == 0, process.tail()
    assert "Traceback" not in process.log()


def test_without_a_token_run_bot_is_a_console_chat(sanad: Sanad, tmp_path: Path) -> None:
    """`make run` with no TELEGRAM_BOT_TOKEN: questions from stdin, answers on stdout, with
    the bot's settings (here four hits, none held back by the answer gate; the chat's own
    defaults show at most three)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))}
    env.update(
        DATABASE_URL=str(sanad.engine.url),
        INDEX_DIR=str(sanad.index_dir),
        ENV_FILE=str(tmp_path / "no.env"),
        TOP_K="4",
        MIN_RELEVANCE="-1",
    )
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "run_bot.py")],
        input=MIGRATION + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert SEED_TITLE in done.stdout
    ranks = re.findall(r"^(\d+)\. \[", done.stdout, flags=re.MULTILINE)
    assert ranks == ["1", "2", "3", "4"], done.stdout


# --- live feeds and followed topics -------------------------------------------------------------
YEMEN = "snn-017d3f8fa166"  # fighting between Saleh's forces and the Houthis (not in the corpus)
BRITAIN = "snn-01711dde1cd6"  # a British bill: jail for landlords who rent to illegal migrants
BRITAIN_TOPIC = "قانون بريطاني لسجن من يؤجر للمهاجرين غير الشرعيين"


@pytest.fixture(scope="module")
def site() -> Iterator[FeedSite]:
    with FeedSite() as served:
        yield served


def feed_command(tg: Client, admin: int, *args: str, replies: int = 1) -> list[BotMessage]:
    before = len(tg.bot_messages(admin))
    tg.send_command("feed", *args, user_id=admin)
    return tg.wait_for_bot_messages(admin, before + replies, timeout=60)[before:]


def test_a_feed_is_added_and_polled_its_stories_answered_and_followers_alerted(
    tg: Client, sanad: Sanad, site: FeedSite, user_id: int
) -> None:
    admin, follower = ADMINS[1], user_id
    followed = command(tg, "follow", BRITAIN_TOPIC, user=follower)
    assert followed.text == messages.FOLLOW_DONE.format(topic=BRITAIN_TOPIC, limit=10)
    url = site.add_feed("e2e", [YEMEN])
    added, report = feed_command(tg, admin, "add", url, "الوئام", replies=2)
    assert "✅" in (added.text or "") and "الوئام" in (added.text or "")
    assert "مقالات أضيفت 1" in (report.text or ""), report.text
    answer = ask(tg, "ماذا حدث بين قوات صالح والحوثيين في صنعاء؟", user_id)
    assert site.article(YEMEN).title in (answer.text or "")
    # the next story: published on the site, polled, answerable, and its follower told
    alerts_before = len(tg.bot_messages(follower))
    site.publish("e2e", BRITAIN)
    polling, report = feed_command(tg, admin, "poll", replies=2)
    assert polling.text == messages.FEED_POLLING
    assert "جديدة 1" in (report.text or "") and "مقالات أضيفت 1" in (report.text or "")
    alert = tg.wait_for_bot_messages(follower, alerts_before + 1, timeout=WAIT)[alerts_before]
    assert messages.ALERT_HEADER.format(topic=BRITAIN_TOPIC) in (alert.text or "")
    assert site.article(BRITAIN).title in (alert.text or "")
    answer = ask(tg, "ما عقوبة أصحاب البيوت الذين يؤجرونها إلى مهاجرين في بريطانيا؟", user_id)
    assert site.article(BRITAIN).title in (answer.text or "")
    # the 🔕 button under the alert stops the follow, and says so in the chat
    before = len(tg.bot_messages(follower))
    query = tg.press_button(alert, button(alert, "u|"), follower)
    assert toast(tg, query) == messages.TOAST_UNFOLLOWED
    said = tg.wait_for_bot_messages(follower, before + 1, timeout=WAIT)[before]
    assert said.text == messages.UNFOLLOW_DONE.format(topic=BRITAIN_TOPIC)
    assert command(tg, "following", user=follower).text == messages.FOLLOWING_NONE
    [listed] = feed_command(tg, admin, "list")
    assert "الوئام" in (listed.text or "") and "مقالات: 2" in (listed.text or "")


def test_a_broken_feed_is_reported_and_listed_with_its_error(
    tg: Client, sanad: Sanad, site: FeedSite
) -> None:
    admin = ADMINS[2]
    _, report = feed_command(tg, admin, "add", site.url("/broken/missing.rss"), replies=2)
    assert "HTTP 404" in (report.text or ""), report.text
    [listed] = feed_command(tg, admin, "list")
    assert "HTTP 404" in (listed.text or "") and "⚠️" in (listed.text or "")
    feed_id = re.search(r"(\d+)\. 127\.0\.0\.1", listed.text or "")
    assert feed_id, listed.text
    [removed] = feed_command(tg, admin, "remove", feed_id[1])
    assert removed.text == messages.FEED_REMOVED.format(feed_id=feed_id[1])
    [refused] = feed_command(tg, admin, "add", "file:///etc/passwd")
    assert "⚠️" in (refused.text or "")


def test_follow_commands_explain_their_use(tg: Client, sanad: Sanad, user_id: int) -> None:
    assert command(tg, "follow", user=user_id).text == messages.FOLLOW_USAGE
    assert command(tg, "unfollow", "x", user=user_id).text == messages.UNFOLLOW_USAGE
    assert command(tg, "unfollow", "3", user=user_id).text == messages.UNFOLLOW_MISSING
    group = -(user_id + 5000)
    before = len(tg.bot_messages(group))
    tg.send_command("follow", "النفط", user_id=user_id, chat_id=group, chat_type="group")
    reply = tg.wait_for_bot_messages(group, before + 1, timeout=WAIT)[before]
    assert reply.text == messages.FOLLOW_PRIVATE_ONLY
