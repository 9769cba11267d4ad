"""A real python-telegram-bot 22 process (echo_bot.py) against the emulator, over HTTP."""

import socket
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import BotProcess, Client, Emulator

pytestmark = pytest.mark.e2e

ECHO_BOT = Path(__file__).with_name("echo_bot.py")


@pytest.fixture(scope="module")
def echo_bot(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    """The echo bot, long polling; its log must stay free of tracebacks."""
    log = tmp_path_factory.mktemp("echo-bot") / "bot.log"
    with emulator.client() as client:
        bot = BotProcess.python_script(
            ECHO_BOT, env=emulator.bot_env(), log_path=log, ready=client.is_polling
        )
        with bot:
            yield bot
    assert bot.returncode == 0, bot.tail()
    assert "Traceback" not in bot.log(), bot.tail()


def test_start_command_gets_a_reply(tg: Client, echo_bot: BotProcess, user_id: int) -> None:
    tg.send_command("start", user_id=user_id)

    [reply] = tg.wait_for_bot_messages(user_id, 1)

    assert reply.text == "أهلاً! أرسل أي نص وسأعيده إليك."


def test_text_gets_html_reply_with_keyboard_after_typing(
    tg: Client, echo_bot: BotProcess, user_id: int
) -> None:
    tg.send_message("<سؤال> & جواب", user_id=user_id)

    [reply] = tg.wait_for_bot_messages(user_id, 1)

    assert reply.sent_text == "<b>صدى:</b> &lt;سؤال&gt; &amp; جواب"
    assert reply.text == "صدى: <سؤال> & جواب"
    assert reply.entities == [{"type": "bold", "offset": 0, "length": 4}]
    assert reply.callback_data == ["upper"]
    assert tg.chat_actions(user_id) == ["typing"]


def test_button_press_is_answered_and_edits_the_message(
    tg: Client, echo_bot: BotProcess, user_id: int
) -> None:
    tg.send_message("salam", user_id=user_id)
    [reply] = tg.wait_for_bot_messages(user_id, 1)

    query_id = tg.press_button(reply, "upper", user_id)

    [edited] = tg.wait_until(lambda: [m for m in tg.bot_messages(user_id) if m.edits])
    assert edited.message_id == reply.message_id
    assert edited.text == "صدى: SALAM"
    assert edited.entities == [{"type": "italic", "offset": 0, "length": 10}]
    assert edited.buttons == []  # an edit without reply_markup drops the keyboard
    assert tg.callback_answer(query_id) == {"text": "تم", "show_alert": False}


def test_commands_are_published_in_post_init(tg: Client, echo_bot: BotProcess) -> None:
    commands = tg.my_commands()

    assert [c["command"] for c in commands] == ["start", "bad_html", "too_long"]


def test_flood_429_is_retried_by_the_rate_limiter(
    tg: Client, echo_bot: BotProcess, user_id: int
) -> None:
    before = tg.calls().get("sendMessage", 0)
    tg.inject_flood("sendMessage", count=1, retry_after=1)
    started = time.monotonic()

    tg.send_message("مرحبا", user_id=user_id)

    [reply] = tg.wait_for_bot_messages(user_id, 1, timeout=10)
    assert reply.text == "صدى: مرحبا"
    assert time.monotonic() - started >= 1.0
    assert tg.calls()["sendMessage"] - before == 2


def test_invalid_html_is_refused_with_bad_request(
    tg: Client, echo_bot: BotProcess, user_id: int
) -> None:
    tg.send_command("bad_html", user_id=user_id)

    [reply] = tg.wait_for_bot_messages(user_id, 1)

    assert reply.text
    assert reply.text.startswith("rejected: Can't parse entities: can't find end tag")


def test_message_over_4096_characters_is_refused(
    tg: Client, echo_bot: BotProcess, user_id: int
) -> None:
    tg.send_command("too_long", user_id=user_id)

    [reply] = tg.wait_for_bot_messages(user_id, 1)

    assert reply.text == "rejected: Message is too long"


def test_bot_replies_within_half_a_second(tg: Client, echo_bot: BotProcess, user_id: int) -> None:
    latencies = []
    for n in range(1, 6):
        started = time.monotonic()
        tg.send_message(f"رسالة {n}", user_id=user_id)
        tg.wait_for_bot_messages(user_id, n)
        latencies.append(time.monotonic() - started)

    assert max(latencies) < 0.5, latencies
    assert statistics.median(latencies) < 0.2, latencies


def test_document_round_trip(tg: Client, echo_bot: BotProcess, user_id: int) -> None:
    content = "خبر عاجل\n".encode() * 100

    tg.send_document(content, "articles.jsonl", user_id=user_id)

    [reply] = tg.wait_for_bot_messages(user_id, 1)
    assert reply.method == "sendDocument"
    assert reply.text == f"{len(content)} bytes"
    assert reply.raw["document"]["file_name"] == "echo-articles.jsonl"
    assert tg.file_bytes(reply.raw["document"]["file_id"]) == content


def test_edited_message_reaches_the_bot(tg: Client, echo_bot: BotProcess, user_id: int) -> None:
    message_id = tg.send_message("قبل", user_id=user_id)
    tg.wait_for_bot_messages(user_id, 1)

    tg.edit_message(message_id, "بعد", user_id=user_id)

    assert tg.wait_for_bot_messages(user_id, 2)[1].text == "عُدّلت: بعد"


def test_inline_query_is_answered(tg: Client, echo_bot: BotProcess, user_id: int) -> None:
    query_id = tg.send_inline_query("غزة", user_id=user_id)

    answer = tg.wait_until(lambda: tg.inline_answer(query_id))
    assert answer

    assert [r["title"] for r in answer["results"]] == ["غزة"]


def test_in_groups_the_bot_answers_only_when_mentioned(
    tg: Client, echo_bot: BotProcess, user_id: int
) -> None:
    group = -user_id
    tg.send_message("مرحبا جميعا", user_id=user_id, chat_id=group, chat_type="supergroup")
    asked = tg.send_message(
        f"@{tg.bot_username} هل أنت هنا؟", user_id=user_id, chat_id=group, chat_type="supergroup"
    )

    [reply] = tg.wait_for_bot_messages(group, 1)

    assert reply.text == "نعم؟"
    assert reply.raw["chat"]["type"] == "supergroup"
    assert reply.raw["reply_to_message"]["message_id"] == asked


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_webhook_mode(emulator: Emulator, tmp_path: Path, user_id: int) -> None:
    token = "987654321:webhook-test-token"
    env = {**emulator.bot_env(token), "ECHO_BOT_WEBHOOK_PORT": str(_free_port())}
    with emulator.client(token) as client:
        ready = lambda: client.state()["webhook"] is not None  # noqa: E731
        with BotProcess.python_script(
            ECHO_BOT, env=env, log_path=tmp_path / "bot.log", ready=ready
        ):
            client.send_command("start", user_id=user_id)

            [reply] = client.wait_for_bot_messages(user_id, 1)
        calls = client.calls()

    assert reply.text == "أهلاً! أرسل أي نص وسأعيده إليك."
    assert "setWebhook" in calls
    assert "getUpdates" not in calls  # the update came by webhook


def test_bot_messages_since_skips_what_a_poller_read(
    tg: Client, echo_bot: BotProcess, user_id: int
) -> None:
    for n, text in enumerate(["أولى", "ثانية", "ثالثة"], start=1):
        tg.send_message(text, user_id=user_id)
        tg.wait_for_bot_messages(user_id, n)

    everything = tg.bot_messages(user_id)
    newer = tg.bot_messages(user_id, since=1)

    assert len(everything) == 3
    assert [m.message_id for m in newer] == [m.message_id for m in everything[1:]]
    assert tg.bot_messages(user_id, since=3) == []
