"""The emulator itself, called as a bot would call Telegram: the gaps it fills stay filled."""

import itertools
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from telegram import Message, Update

from tests.e2e.harness import BOT_USERNAME, BotMessage, Client, Emulator, EmulatorError

pytestmark = pytest.mark.e2e

_tokens = itertools.count(500_001)
USER = 42


@pytest.fixture
def api(emulator: Emulator) -> Iterator[Client]:
    """A client for a fresh bot token: its own update queue, no bot process polling it."""
    with emulator.client(f"{next(_tokens)}:api-test") as client:
        yield client


def call(api: Client, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
    response = api.bot_api(method, **params)
    return response.status_code, response.json()


def ok(api: Client, method: str, **params: Any) -> Any:
    status, body = call(api, method, **params)
    assert (status, body["ok"]) == (200, True), body
    return body["result"]


def bad_request(api: Client, method: str, **params: Any) -> str:
    status, body = call(api, method, **params)
    assert (status, body["ok"], body["error_code"]) == (400, False, 400), body
    return body["description"]


def get_updates(api: Client, **params: Any) -> list[dict[str, Any]]:
    return ok(api, "getUpdates", **params)


def test_get_me_describes_a_bot(api: Client) -> None:
    me = ok(api, "getMe")

    assert me["is_bot"] is True
    assert me["id"] == int(api.token.split(":")[0])
    assert me["username"] == BOT_USERNAME


def test_sent_message_has_telegram_shape(api: Client) -> None:
    api.send_message("hi", user_id=USER)

    message = ok(api, "sendMessage", chat_id=USER, text="أهلاً")

    assert abs(message["date"] - time.time()) < 5  # seconds, not milliseconds
    assert message["from"]["is_bot"] is True
    assert message["chat"] == {
        "id": USER,
        "type": "private",
        "first_name": f"User {USER}",
        "username": f"user{USER}",
    }


@pytest.mark.parametrize(
    ("html", "visible"),
    [
        ("<b>a</b> <strong>b</strong> <i>c</i> <em>d</em> <u>e</u> <s>f</s>", "a b c d e f"),
        ('<a href="https://x.y/?a=1&amp;b=2">رابط</a>', "رابط"),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1"),
        ("&lt;&gt;&amp;&quot;&#1575;&#x628;", '<>&"اب'),
        ('<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>', "st"),
        ("<blockquote expandable>q</blockquote><B>x</B>", "qx"),
        ("<b>bold <i>both</i></b>", "bold both"),
    ],
)
def test_valid_html_is_accepted(api: Client, html: str, visible: str) -> None:
    message = ok(api, "sendMessage", chat_id=USER, text=html, parse_mode="HTML")

    assert message["text"] == visible


def test_html_becomes_entities_with_utf16_offsets(api: Client) -> None:
    message = ok(
        api, "sendMessage", chat_id=USER, text='😀 <a href="https://x.y">خبر</a>', parse_mode="HTML"
    )

    assert message["entities"] == [
        {"type": "text_link", "offset": 3, "length": 3, "url": "https://x.y"}
    ]


@pytest.mark.parametrize(
    "html",
    ["<br>", "<b>x", "<b>x</i>", "x</b>", "<p>x</p>", "<span>x</span>", "a < b", "a & b", "a > b"],
)
def test_invalid_html_is_refused(api: Client, html: str) -> None:
    description = bad_request(api, "sendMessage", chat_id=USER, text=html, parse_mode="HTML")

    assert description.startswith("Bad Request: can't parse entities: ")


def test_lenient_html_accepts_what_telegram_tolerates(api: Client) -> None:
    api.set_html_strict(False)
    try:
        message = ok(api, "sendMessage", chat_id=USER, text="a & b > c", parse_mode="HTML")
    finally:
        api.set_html_strict(True)

    assert message["text"] == "a & b > c"


@pytest.mark.parametrize(
    ("text", "parse_mode", "accepted"),
    [
        ("ب" * 4096, None, True),
        ("ب" * 4097, None, False),
        ("<b>" + "ب" * 4096 + "</b>", "HTML", True),  # tags do not count
        ("😀" * 2048, None, True),  # 2 UTF-16 units each
        ("😀" * 2049, None, False),
    ],
)
def test_text_limit_counts_visible_utf16_units(
    api: Client, text: str, parse_mode: str | None, accepted: bool
) -> None:
    params = {"parse_mode": parse_mode} if parse_mode else {}
    status, body = call(api, "sendMessage", chat_id=USER, text=text, **params)

    if accepted:
        assert status == 200, body
    else:
        assert (status, body["description"]) == (400, "Bad Request: message is too long")


def test_caption_limit_is_1024(api: Client) -> None:
    files = {"document": ("a.txt", b"abc")}
    response = api.bot_api("sendDocument", files=files, chat_id=USER, caption="x" * 1025)

    assert response.status_code == 400
    assert response.json()["description"] == "Bad Request: message caption is too long"


def test_edit_and_delete_return_what_telegram_returns(api: Client) -> None:
    sent = ok(api, "sendMessage", chat_id=USER, text="one")
    ids = {"chat_id": USER, "message_id": sent["message_id"]}

    edited = ok(api, "editMessageText", text="two", **ids)
    not_modified = bad_request(api, "editMessageText", text="two", **ids)
    keyboard = {"inline_keyboard": [[{"text": "b", "callback_data": "x"}]]}
    marked = ok(api, "editMessageReplyMarkup", reply_markup=keyboard, **ids)
    deleted = ok(api, "deleteMessage", **ids)
    deleted_again = bad_request(api, "deleteMessage", **ids)

    assert (edited["text"], edited["message_id"], "edit_date" in edited) == (
        "two",
        ids["message_id"],
        True,
    )
    assert not_modified.startswith("Bad Request: message is not modified")
    assert marked["reply_markup"] == keyboard
    assert deleted is True
    assert deleted_again == "Bad Request: message to delete not found"
    assert api.bot_messages(USER) == []
    assert [m.text for m in api.bot_messages(USER, include_deleted=True)] == ["two"]


def test_callback_query_has_chat_instance_and_must_be_answered_once(api: Client) -> None:
    keyboard = {"inline_keyboard": [[{"text": "b", "callback_data": "x"}]]}
    ok(api, "sendMessage", chat_id=USER, text="pick", reply_markup=keyboard)
    [message] = api.bot_messages(USER)

    query_id = api.press_button(message, "x", USER)
    [update] = get_updates(api)

    assert update["callback_query"]["chat_instance"]
    assert update["callback_query"]["message"]["reply_markup"] == keyboard
    assert ok(api, "answerCallbackQuery", callback_query_id=query_id, text="done") is True
    assert bad_request(api, "answerCallbackQuery", callback_query_id=query_id).startswith(
        "Bad Request: query is too old"
    )


def test_pressing_a_button_that_is_not_there_fails(api: Client) -> None:
    ok(api, "sendMessage", chat_id=USER, text="no buttons")
    [message] = api.bot_messages(USER)

    with pytest.raises(EmulatorError, match="no button"):
        api.press_button(message, "x", USER)


def test_callback_data_over_64_bytes_is_refused(api: Client) -> None:
    keyboard = {"inline_keyboard": [[{"text": "b", "callback_data": "ب" * 33}]]}

    description = bad_request(api, "sendMessage", chat_id=USER, text="x", reply_markup=keyboard)

    assert description == "Bad Request: BUTTON_DATA_INVALID"


def test_user_command_gets_a_bot_command_entity(api: Client) -> None:
    api.send_message("/ask ما الخبر؟", user_id=USER)

    [update] = get_updates(api)

    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 4}]


def test_offset_confirms_updates(api: Client) -> None:
    api.send_message("one", user_id=USER)
    api.send_message("two", user_id=USER)

    first = get_updates(api)
    again = get_updates(api)
    after_first = get_updates(api, offset=first[0]["update_id"] + 1)
    after_all = get_updates(api, offset=first[1]["update_id"] + 1)

    assert [u["message"]["text"] for u in first] == ["one", "two"]
    assert again == first  # nothing is confirmed until a higher offset is sent
    assert [u["message"]["text"] for u in after_first] == ["two"]
    assert after_all == []
    assert get_updates(api) == []  # confirmed updates are gone for good


def test_long_poll_is_held_until_an_update_arrives(api: Client) -> None:
    with ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        poll = pool.submit(get_updates, api, timeout=5)
        time.sleep(0.3)
        assert not poll.done()
        api.send_message("now", user_id=USER)
        [update] = poll.result(timeout=2)

    assert update["message"]["text"] == "now"
    assert 0.3 <= time.monotonic() - started < 1.0


def test_long_poll_times_out_empty(api: Client) -> None:
    started = time.monotonic()

    assert get_updates(api, timeout=0.3) == []
    assert time.monotonic() - started >= 0.3


def test_a_second_poller_makes_the_first_one_fail_with_conflict(api: Client) -> None:
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(call, api, "getUpdates", timeout=5)
        api.wait_until(api.is_polling)
        get_updates(api, timeout=0)
        status, body = first.result(timeout=2)

    assert status == 409
    assert body["description"].startswith("Conflict: terminated by other getUpdates request")


def test_injected_flood_answers_429_then_recovers(api: Client) -> None:
    api.inject_flood("getMe", count=2, retry_after=3)

    answers = [call(api, "getMe") for _ in range(3)]

    flood = {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert answers[:2] == [(429, flood), (429, flood)]
    assert answers[2][0] == 200
    assert api.calls()["getMe"] == 3


def test_methods_missing_from_the_package(api: Client) -> None:
    commands = [{"command": "ask", "description": "اسأل"}]

    assert ok(api, "sendChatAction", chat_id=USER, action="typing") is True
    assert bad_request(api, "sendChatAction", chat_id=USER, action="dancing")
    assert ok(api, "setMyCommands", commands=commands) is True
    assert ok(api, "getMyCommands") == commands
    assert bad_request(api, "setMyCommands", commands=[{"command": "Ask", "description": "x"}]) == (
        "Bad Request: BOT_COMMAND_INVALID"
    )
    assert ok(api, "deleteMyCommands") is True
    assert ok(api, "getMyCommands") == []
    assert ok(api, "getWebhookInfo") == {
        "url": "",
        "has_custom_certificate": False,
        "pending_update_count": 0,
    }
    assert ok(api, "deleteWebhook") is True


def test_get_updates_conflicts_with_a_webhook(api: Client) -> None:
    ok(api, "setWebhook", url="http://127.0.0.1:9/hook")
    status, body = call(api, "getUpdates")
    ok(api, "deleteWebhook", drop_pending_updates=True)

    assert status == 409
    assert "webhook is active" in body["description"]


def test_raw_updates_and_default_allowed_updates(api: Client) -> None:
    member = {"chat": {"id": USER, "type": "private"}, "from": {"id": USER, "is_bot": False}}
    api.send_raw_update({"chat_member": member})  # not delivered unless asked for
    update_id = api.send_raw_update({"my_chat_member": member})

    assert get_updates(api) == [{"update_id": update_id, "my_chat_member": member}]


def test_user_document_can_be_downloaded_by_the_bot(api: Client, emulator: Emulator) -> None:
    api.send_document(b'{"title": "x"}\n', "a.jsonl", user_id=USER)
    [update] = get_updates(api)
    file_id = update["message"]["document"]["file_id"]

    path = ok(api, "getFile", file_id=file_id)["file_path"]
    content = httpx.get(f"{emulator.base_url}/file/bot{api.token}/{path}").content

    assert content == b'{"title": "x"}\n'


def test_unknown_method_gets_a_bot_api_error_body(api: Client) -> None:
    status, body = call(api, "sendTelepathy", chat_id=USER)

    assert status == 500
    assert body["ok"] is False
    assert body["description"].startswith("Emulator: API method 'sendTelepathy' is not supported")


def test_bot_message_view_keeps_what_was_sent(api: Client) -> None:
    keyboard = {"keyboard": [[{"text": "نعم"}]], "resize_keyboard": True}
    ok(api, "sendMessage", chat_id=USER, text="<b>x</b>", parse_mode="HTML", reply_markup=keyboard)

    [message] = api.bot_messages(USER)

    assert isinstance(message, BotMessage)
    assert (message.text, message.sent_text, message.parse_mode) == ("x", "<b>x</b>", "HTML")
    assert message.reply_markup == keyboard  # a reply keyboard is not in Telegram's Message
    assert "reply_markup" not in message.raw


@pytest.mark.parametrize("kind", ["document", "photo", "voice", "audio", "video", "sticker"])
def test_user_media_parses_in_python_telegram_bot(api: Client, kind: str) -> None:
    api.send_media(kind, b"\x00\x01", user_id=USER, file_name="f.bin", mime_type="x/y")

    [data] = get_updates(api)
    update = Update.de_json(data, None)

    assert update.message is not None
    assert getattr(update.message, kind)
    assert update.message.api_kwargs == {}


def test_every_update_kind_parses_in_python_telegram_bot(api: Client) -> None:
    keyboard = {"inline_keyboard": [[{"text": "b", "callback_data": "x"}]]}
    sent = ok(
        api, "sendMessage", chat_id=USER, text="<b>x</b>", parse_mode="HTML", reply_markup=keyboard
    )
    [bot_message] = api.bot_messages(USER)
    asked = api.send_command("start", "a", user_id=USER)
    api.send_message("reply", user_id=USER, reply_to=sent["message_id"])
    api.send_message(f"@{BOT_USERNAME} hi", user_id=USER, chat_id=-5, chat_type="group")
    api.edit_message(asked, "/start b", user_id=USER)
    api.press_button(bot_message, "x", USER)
    api.send_inline_query("q", user_id=USER)

    updates = [Update.de_json(u, None) for u in get_updates(api)]

    assert Message.de_json(sent, None).text == "x"
    kinds = [u.effective_message and u.effective_message.text for u in updates]
    assert kinds == ["/start a", "reply", f"@{BOT_USERNAME} hi", "/start b", "x", None]
    assert updates[1].message and updates[1].message.reply_to_message
    assert updates[2].message and updates[2].message.parse_entities(["mention"])
    assert updates[3].edited_message is not None
    assert updates[4].callback_query and updates[4].callback_query.chat_instance
    assert updates[5].inline_query and updates[5].inline_query.query == "q"
    assert all(u.api_kwargs == {} for u in updates)
