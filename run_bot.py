"""Run the Sanad bot: settings from the environment and `.env`, then polling or a webhook.

Without TELEGRAM_BOT_TOKEN it runs the local console chat instead (`python -m retrieval chat`).
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit

from bot.settings import Settings, SettingsError, load_env_file
from retrieval.cli import quiet_libraries

log = logging.getLogger("sanad")


class RedactingFormatter(logging.Formatter):
    """Replace the bot token wherever it would appear in a formatted log line, tracebacks
    included (request URLs and python-telegram-bot's InvalidToken message carry it)."""

    def __init__(self, fmt: str, token: str) -> None:
        super().__init__(fmt)
        self.token = token

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace(self.token, "<token>")


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(token: str | None, level: str = "INFO") -> None:
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT, stream=sys.stderr)
    # httpx logs every request URL at INFO, and Bot API URLs contain the token. At INFO,
    # sentence-transformers draws a progress bar per question; bm25s sets itself to DEBUG.
    quiet_libraries()
    if token:
        for handler in logging.getLogger().handlers:
            handler.setFormatter(RedactingFormatter(LOG_FORMAT, token))


def read_environment(env_file: Path) -> dict[str, str]:
    """The process environment over the values of a `.env` file (if there is one)."""
    return {**load_env_file(env_file), **os.environ}


def main() -> int:
    values = read_environment(Path(os.environ.get("ENV_FILE", ".env")))
    try:
        settings = Settings.from_env(values)
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if settings.token is None:
        from retrieval.cli import main as retrieval_main

        os.environ.update(values)  # the console chat reads its settings from the environment
        print("TELEGRAM_BOT_TOKEN is not set: starting the local console chat.", file=sys.stderr)
        return retrieval_main(["chat"])
    setup_logging(settings.token.get_secret_value(), values.get("LOG_LEVEL") or "INFO")
    return run_or_explain(settings)


def run(settings: Settings) -> int:
    from bot.app import build_application
    from retrieval.cli import prepare

    application = build_application(settings, lambda: prepare(settings.library))
    if settings.webhook_url:
        # Without a secret anyone who finds the webhook path could post updates posing as an
        # admin; Telegram receives this one through setWebhook at every start.
        secret = (
            settings.webhook_secret.get_secret_value()
            if settings.webhook_secret
            else secrets.token_urlsafe(32)
        )
        log.info("starting webhook on %s:%d", settings.webhook_listen, settings.webhook_port)
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            secret_token=secret,
            allowed_updates=ALLOWED_UPDATES,
        )
    else:
        log.info("starting polling against %s", settings.telegram_base_url)
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
    return 0


def run_or_explain(settings: Settings) -> int:
    """`run`, with a one-line error instead of a traceback when Telegram rejects the token."""
    from telegram.error import InvalidToken

    try:
        return run(settings)
    except InvalidToken:
        log.error("Telegram rejected TELEGRAM_BOT_TOKEN: check it with @BotFather")
        return 2


ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "inline_query"]

if __name__ == "__main__":
    sys.exit(main())
