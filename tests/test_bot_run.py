"""The entry point's setup: settings from .env under the environment, a quiet httpx, the
token redacted (retrieval.logs, shared by run_bot.py and the CLI)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from bot.settings import Settings
from retrieval import logs

TOKEN = "123456:very-secret"


def test_environment_overrides_the_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\nTOP_K=4\nADMIN_IDS=7\n", encoding="utf-8")
    monkeypatch.setenv("TOP_K", "2")
    monkeypatch.setenv("ADMIN_IDS", "")
    monkeypatch.delenv("ADMIN_IDS")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN")
    settings = Settings.load(env_file)
    assert settings.token is not None and settings.token.get_secret_value() == TOKEN
    assert settings.top_k == 2 and settings.admin_ids == {7}
    assert Settings.load(tmp_path / "missing").top_k == 2


def test_token_is_redacted_from_every_log_line_and_traceback() -> None:
    import io

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.RedactingFormatter(logs.LOG_FORMAT, TOKEN))
    logger = logging.getLogger("test.redact")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("POST https://api.telegram.org/bot%s/getUpdates", TOKEN)
        logger.warning(f"failed: https://api.telegram.org/bot{TOKEN}/sendMessage")
        try:
            raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
        except RuntimeError:
            logger.exception("bootstrap failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert TOKEN not in text
    assert text.count("bot<token>/") == 2
    assert "The token `<token>` was rejected" in text


def test_httpx_is_quiet_after_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [logging.NullHandler()])
    logs.setup_logging(secrets=[TOKEN])
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("bm25s").getEffectiveLevel() == logging.WARNING
    assert isinstance(root.handlers[0].formatter, logs.RedactingFormatter)


def test_third_party_debug_lines_are_dropped_even_if_a_library_resets_its_level(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    stream = io.StringIO()
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [logging.StreamHandler(stream)])
    monkeypatch.setattr(root, "level", logging.DEBUG)
    monkeypatch.setattr(logging.getLogger("telegram"), "level", logging.NOTSET)  # restored after
    logs.setup_logging("DEBUG")
    # python-telegram-bot stays at INFO: at DEBUG it logs every request with its payload
    logging.getLogger("telegram.ext.ExtBot").debug("Calling Bot API endpoint sendMessage")
    logging.getLogger("telegram.ext.Application").info("Application started")
    bm25s_logger = logging.getLogger("bm25s")
    monkeypatch.setattr(bm25s_logger, "level", logging.DEBUG)  # what bm25s does on import
    bm25s_logger.debug("Building index from tokens")
    bm25s_logger.warning("a real problem")
    logging.getLogger("sanad").debug("our own debug line")
    text = stream.getvalue()
    assert "Building index" not in text and "Calling Bot API" not in text
    assert "a real problem" in text and "our own debug line" in text
    assert "Application started" in text


def test_an_unreachable_bot_api_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HF_HUB_OFFLINE": "1",
        "TELEGRAM_BOT_TOKEN": "123:not-a-real-token",
        "TELEGRAM_BASE_URL": f"http://127.0.0.1:{port}",
        "ENV_FILE": str(tmp_path / "none.env"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "INDEX_DIR": str(tmp_path / "index"),
    }
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, str(root / "run_bot.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert "cannot reach the Telegram Bot API" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) < 10, done.stderr
    assert "not-a-real-token" not in done.stderr


@pytest.mark.parametrize("relevance", [-1e-05, -1.0, 0.0, 0.35, 1.0])
def test_the_console_chat_is_asked_with_the_bots_settings(relevance: float) -> None:
    """`make run` without a token: the chat's arguments parse back to the bot's settings (a
    small negative threshold, "-1e-05", must not be read as an option)."""
    from retrieval.cli import _parser
    from run_bot import console_chat_args

    settings = Settings(TOP_K=5, SEARCH_MODE="lexical", MIN_RELEVANCE=relevance)
    args = _parser().parse_args(console_chat_args(settings))
    assert (args.command, args.k, args.mode, args.min_relevance) == (
        "chat",
        5,
        "lexical",
        relevance,
    )
