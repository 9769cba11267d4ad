"""Run a real bot process over HTTP against a local Telegram Bot API emulator.

The emulator is telegram-test-api wrapped by ``emulator/launcher.js`` (Node). ``Emulator``
starts it, ``Client`` plays the user and inspects what the bot did, ``BotProcess`` runs the
bot under test as a subprocess pointed at the emulator.
"""

from __future__ import annotations

import base64
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

EMULATOR_DIR = Path(__file__).resolve().parent / "emulator"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TOKEN = "123456789:sanad-e2e-test-token"
BOT_USERNAME = "SanadTestBot"
_READY = re.compile(r"telegram-emulator ready on (http://\S+)")
# A bot under test gets its Telegram settings from the test, never from the developer's shell.
_NOT_INHERITED = ("TELEGRAM_", "WEBHOOK_")

T = TypeVar("T")


class EmulatorError(RuntimeError):
    """The emulator failed to start, or refused a control request."""


@dataclass(frozen=True)
class BotMessage:
    """A message the bot sent, as it stands now (edits applied)."""

    message_id: int
    chat_id: int
    method: str
    text: str | None
    sent_text: str | None
    parse_mode: str | None
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    edits: int
    deleted: bool
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BotMessage:
        """Build from one item of the emulator's /_test/bot_messages answer."""
        message, sent = data["message"], data["sent"]
        return cls(
            message_id=data["message_id"],
            chat_id=data["chat_id"],
            method=data["method"],
            text=message.get("text", message.get("caption")),
            sent_text=sent.get("text", sent.get("caption")),
            parse_mode=sent.get("parse_mode"),
            entities=message.get("entities", message.get("caption_entities", [])),
            reply_markup=data["reply_markup"],
            edits=data["edits"],
            deleted=data["deleted"],
            raw=message,
        )

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Inline keyboard buttons, row by row, flattened."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]

    @property
    def callback_data(self) -> list[str]:
        """The callback_data of every inline button."""
        return [b["callback_data"] for b in self.buttons if "callback_data" in b]


def ensure_node_modules() -> None:
    """Install the emulator's npm dependencies from the lockfile if they are missing."""
    if (EMULATOR_DIR / "node_modules" / "telegram-test-api").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise EmulatorError("npm is not installed; it is needed for the Telegram emulator")
    done = subprocess.run(
        [npm, "ci", "--prefix", str(EMULATOR_DIR), "--no-audit", "--no-fund"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise EmulatorError(f"npm ci failed:\n{done.stdout}\n{done.stderr}")


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM if the test run dies without cleaning up.

    Strictly, when the thread that started it exits: start processes from the main thread.
    """
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # 1 == PR_SET_PDEATHSIG


def _spawn(
    args: Sequence[str], *, log: Path, env: Mapping[str, str], cwd: Path
) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            list(args),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            process_group=0,  # a Ctrl-C in the terminal reaches pytest only; we stop children
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )


def _stop(process: subprocess.Popen, sig: int, timeout: float) -> int:
    """Signal the process, wait, and kill it if it does not exit in time."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    return process.returncode


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _temp_log(prefix: str) -> Path:
    handle, name = tempfile.mkstemp(prefix=prefix, suffix=".log")
    os.close(handle)
    return Path(name)


class Emulator:
    """The emulator process on a free 127.0.0.1 port, for use as a context manager."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = BOT_USERNAME,
        log_path: Path | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.log_path = log_path or _temp_log("tg-emulator-")
        self.startup_timeout = startup_timeout
        self.base_url = ""
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start the emulator and wait for its readiness line."""
        ensure_node_modules()
        node = shutil.which("node")
        if node is None:
            raise EmulatorError("node is not installed; it is needed for the Telegram emulator")
        args = [node, "launcher.js", "--port", "0", "--bot-username", self.bot_username]
        self._process = _spawn(args, log=self.log_path, env=os.environ, cwd=EMULATOR_DIR)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            found = _READY.search(self.log_path.read_text(errors="replace"))
            if found:
                self.base_url = found.group(1)
                return
            if self._process.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise EmulatorError(
            f"the emulator did not start; log {self.log_path}:\n{_tail(self.log_path)}"
        )

    def stop(self) -> None:
        """Stop the emulator process (SIGTERM, then kill)."""
        if self._process is not None:
            _stop(self._process, signal.SIGTERM, timeout=5)
            self._process = None

    def client(self, token: str | None = None) -> Client:
        """A user-side client for the bot with this token (default: the emulator's token)."""
        return Client(self.base_url, token or self.token, bot_username=self.bot_username)

    def bot_env(self, token: str | None = None) -> dict[str, str]:
        """Environment that points a bot at this emulator."""
        return {"TELEGRAM_BOT_TOKEN": token or self.token, "TELEGRAM_BASE_URL": self.base_url}


class Client:
    """Plays the Telegram users of one bot and reads back what the bot did."""

    def __init__(self, base_url: str, token: str, *, bot_username: str = BOT_USERNAME) -> None:
        self.token = token
        self.bot_username = bot_username
        # Plain HTTP on localhost: verify=False only skips loading CA certificates (~50 ms).
        self._http = httpx.Client(base_url=base_url, timeout=30, verify=False)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def _result(self, response: httpx.Response) -> Any:
        data = response.json()
        if not data.get("ok"):
            raise EmulatorError(f"{response.request.url.path}: {data.get('description')}")
        return data["result"]

    def _post(self, path: str, **body: Any) -> Any:
        clean = {k: v for k, v in body.items() if v is not None}
        return self._result(self._http.post(path, json={"token": self.token, **clean}))

    def _get(self, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        return self._result(self._http.get(path, params={"token": self.token, **clean}))

    # --- the user side ---

    def send_message(
        self,
        text: str,
        *,
        user_id: int,
        chat_id: int | None = None,
        chat_type: str = "private",
        entities: list[dict[str, Any]] | None = None,
        reply_to: int | None = None,
        title: str | None = None,
        sender: dict[str, Any] | None = None,
    ) -> int:
        """A user sends text; /commands and @mentions get entities. Returns the message_id.

        `sender` overrides fields of the sender and the message, e.g. an anonymous group admin:
        {"is_bot": True, "username": "GroupAnonymousBot", "sender_chat": True}.
        """
        return self._post(
            "/_test/message",
            text=text,
            user_id=user_id,
            chat_id=chat_id,
            chat_type=chat_type,
            entities=entities,
            reply_to=reply_to,
            title=title,
            **(sender or {}),
        )["message_id"]

    def send_command(
        self,
        command: str,
        *args: str,
        user_id: int,
        chat_id: int | None = None,
        chat_type: str = "private",
        mention_bot: bool = False,
    ) -> int:
        """A user sends /command [args] (optionally /command@BotName). Returns the message_id."""
        text = "/" + command.lstrip("/") + (f"@{self.bot_username}" if mention_bot else "")
        text = " ".join([text, *args])
        return self.send_message(text, user_id=user_id, chat_id=chat_id, chat_type=chat_type)

    def send_media(
        self,
        kind: str,
        content: bytes,
        *,
        user_id: int,
        file_name: str | None = None,
        mime_type: str | None = None,
        caption: str | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
    ) -> int:
        """A user sends a document, photo, voice, audio, video or sticker. Returns message_id."""
        media = {
            "kind": kind,
            "content_b64": base64.b64encode(content).decode(),
            "file_name": file_name,
            "mime_type": mime_type,
        }
        return self._post(
            "/_test/message",
            media=media,
            caption=caption,
            user_id=user_id,
            chat_id=chat_id,
            chat_type=chat_type,
        )["message_id"]

    def send_document(
        self, content: bytes, file_name: str, *, user_id: int, caption: str | None = None, **kw: Any
    ) -> int:
        """A user uploads a file as a document. Returns the message_id."""
        mime = kw.pop("mime_type", "application/octet-stream")
        return self.send_media(
            "document",
            content,
            user_id=user_id,
            file_name=file_name,
            mime_type=mime,
            caption=caption,
            **kw,
        )

    def edit_message(
        self,
        message_id: int,
        text: str,
        *,
        user_id: int,
        chat_id: int | None = None,
        chat_type: str = "private",
    ) -> int:
        """A user edits their earlier message (an edited_message update). Returns update_id."""
        return self._post(
            "/_test/edit",
            message_id=message_id,
            text=text,
            user_id=user_id,
            chat_id=chat_id,
            chat_type=chat_type,
        )["update_id"]

    def press_button(self, message: BotMessage, callback_data: str, user_id: int) -> str:
        """A user presses an inline button that is on the message now. Returns the query id."""
        return self._post(
            "/_test/callback",
            chat_id=message.chat_id,
            message_id=message.message_id,
            data=callback_data,
            user_id=user_id,
        )["callback_query_id"]

    def send_inline_query(
        self, query: str, *, user_id: int, offset: str = "", chat_type: str = "sender"
    ) -> str:
        """A user types "@bot query" in some chat. Returns the inline query id."""
        return self._post(
            "/_test/inline_query", query=query, user_id=user_id, offset=offset, chat_type=chat_type
        )["inline_query_id"]

    def send_raw_update(self, update: dict[str, Any]) -> int:
        """Queue an update of any shape (the emulator adds update_id). Returns the update_id."""
        return self._post("/_test/update", update=update)["update_id"]

    # --- what the bot did ---

    def bot_messages(
        self, chat_id: int | None = None, *, include_deleted: bool = False, since: int = 0
    ) -> list[BotMessage]:
        """Messages the bot sent (to one chat, or all), oldest first, edits applied; `since`
        skips the first that many (deleted ones included) for a poller that read them."""
        items = self._get("/_test/bot_messages", chat_id=chat_id, since=since or None)
        messages = [BotMessage.from_json(item) for item in items]
        return [m for m in messages if include_deleted or not m.deleted]

    def wait_for_bot_messages(
        self, chat_id: int, count: int = 1, timeout: float = 5.0
    ) -> list[BotMessage]:
        """Wait until the chat holds at least ``count`` bot messages; return them all."""

        def enough() -> list[BotMessage]:
            messages = self.bot_messages(chat_id)
            return messages if len(messages) >= count else []

        return self.wait_until(enough, timeout, what=f"{count} bot message(s) in chat {chat_id}")

    def wait_until(
        self, predicate: Callable[[], T], timeout: float = 5.0, *, what: str = "condition"
    ) -> T:
        """Poll ``predicate`` until it returns something truthy, and return that."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(0.01)

    def state(self) -> dict[str, Any]:
        """Everything the emulator records for this bot (calls, answers, commands, ...)."""
        return self._get("/_test/state")

    def calls(self) -> dict[str, int]:
        """How many times the bot called each Bot API method (failed calls included)."""
        return self.state()["calls"]

    def chat_actions(self, chat_id: int) -> list[str]:
        """Chat actions (typing, ...) the bot sent to the chat, in order."""
        return [a["action"] for a in self.state()["chat_actions"] if a["chat_id"] == chat_id]

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        """How the bot answered a callback query, or None if it did not."""
        return self.state()["callback_answers"].get(query_id)

    def inline_answer(self, query_id: str) -> dict[str, Any] | None:
        """How the bot answered an inline query (results, ...), or None if it did not."""
        return self.state()["inline_answers"].get(query_id)

    def my_commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, str]]:
        """The command list the bot set for a scope (default scope if None)."""
        scope = scope or {"type": "default"}
        for entry in self.state()["commands"]:
            if entry["scope"] == scope and entry["language_code"] == language_code:
                return entry["commands"]
        return []

    def is_polling(self) -> bool:
        """True while the bot has a getUpdates request held open (it is ready for updates)."""
        return bool(self.state()["polling"])

    def pending_updates(self) -> int:
        """Updates the bot has not confirmed yet."""
        return self.state()["pending_updates"]

    def file_bytes(self, file_id: str) -> bytes:
        """The content of a file the bot (or a user) sent."""
        response = self._http.get(f"/_test/files/{file_id}")
        response.raise_for_status()
        return response.content

    # --- steering the emulator ---

    def inject_flood(self, method: str, count: int = 1, retry_after: int = 1) -> None:
        """The next ``count`` calls of ``method`` get HTTP 429 with retry_after."""
        self._post("/_test/flood", method=method, count=count, retry_after=retry_after)

    def set_html_strict(self, strict: bool) -> None:
        """Strict (default) also rejects a bare & or >, which Telegram itself tolerates."""
        self._post("/_test/config", html_strict=strict)

    def bot_api(
        self, method: str, files: dict[str, tuple[str, bytes]] | None = None, **params: Any
    ) -> httpx.Response:
        """Call the Bot API as python-telegram-bot does; counts as one of the bot's calls."""
        data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
        return self._http.post(f"/bot{self.token}/{method}", data=data, files=files)


class BotProcess:
    """A bot under test as a subprocess; stopped with SIGINT, then killed."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path = REPO_ROOT,
        log_path: Path | None = None,
        ready: Callable[[], bool] | None = None,
        startup_timeout: float = 20.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.args = list(args)
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED)}
        self.env = {**inherited, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.cwd = cwd
        self.log_path = log_path or _temp_log("bot-")
        self.ready = ready
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.returncode: int | None = None
        self._process: subprocess.Popen | None = None

    @classmethod
    def python_script(cls, script: Path | str, *args: str, **kwargs: Any) -> BotProcess:
        """Run ``script`` with this interpreter."""
        return cls([sys.executable, str(script), *args], **kwargs)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start the bot; with ``ready``, wait until it returns True (e.g. Client.is_polling)."""
        self._process = _spawn(self.args, log=self.log_path, env=self.env, cwd=self.cwd)
        if self.ready is None:
            return
        deadline = time.monotonic() + self.startup_timeout
        while not self.ready():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"the bot did not get ready; log {self.log_path}:\n{self.tail()}"
                )
            time.sleep(0.02)

    def stop(self) -> int | None:
        """SIGINT (python-telegram-bot shuts down cleanly on it), then kill; the exit code."""
        if self._process is not None:
            self.returncode = _stop(self._process, signal.SIGINT, self.stop_timeout)
            self._process = None
        return self.returncode

    def log(self) -> str:
        """Everything the bot wrote to stdout and stderr so far."""
        return self.log_path.read_text(errors="replace")

    def tail(self, lines: int = 40) -> str:
        """The last lines of the bot's log."""
        return _tail(self.log_path, lines)


BENCH_LOGS = ("emulator.log", "bot.log")  # readiness lines are found in these: start them empty


def bundled_corpus_bot(
    emulator: Emulator, client: Client, data_dir: Path, env: Mapping[str, str] | None = None
) -> BotProcess:
    """run_bot.py with its database and index in `data_dir` (the bundled corpus is ingested
    and indexed on first start: minutes on a small CPU), no rate limit to speak of, quiet
    logs; `env` adds to or overrides that. For benchmarks; remove `BENCH_LOGS` from
    `data_dir` before starting the emulator."""
    settings = {
        **emulator.bot_env(),
        "DATABASE_URL": f"sqlite:///{data_dir / 'sanad.db'}",
        "INDEX_DIR": str(data_dir / "index"),
        "RATE_LIMIT_PER_MINUTE": "10000",
        "ENV_FILE": str(data_dir / "no.env"),
        "LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    return BotProcess.python_script(
        REPO_ROOT / "run_bot.py",
        env=settings,
        log_path=data_dir / "bot.log",
        ready=client.is_polling,
        startup_timeout=3600,
    )
