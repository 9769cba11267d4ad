"""Run the Sanad bot: settings from the environment and `.env`, then polling or a webhook.

Without TELEGRAM_BOT_TOKEN it runs the local console chat instead (`python -m retrieval chat`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import sys
from urllib.parse import urlsplit

from bot.settings import Settings, SettingsError
from retrieval.logs import setup_logging

log = logging.getLogger("sanad")
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "inline_query"]


def main() -> int:
    try:
        settings = Settings.load()
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if settings.token is None:
        from retrieval.cli import main as retrieval_main

        print("TELEGRAM_BOT_TOKEN is not set: starting the local console chat.", file=sys.stderr)
        return retrieval_main(console_chat_args(settings))
    token = settings.token.get_secret_value()
    setup_logging(settings.log_level, secrets=[token, webhook_secret(token)])
    return run_or_explain(settings)


def console_chat_args(settings: Settings) -> list[str]:
    """`python -m retrieval chat` answering as the bot would: its TOP_K, SEARCH_MODE and
    MIN_RELEVANCE."""
    return [
        "chat",
        "--k",
        str(settings.top_k),
        "--mode",
        settings.search_mode,
        f"--min-relevance={settings.min_relevance!r}",  # joined: "-1e-05" alone reads as an option
    ]


def run(settings: Settings) -> int:
    from bot.app import build_application

    application = build_application(settings)
    if settings.webhook_url:
        # Without a secret anyone who finds the webhook path could post updates posing as an
        # admin; Telegram receives this one through setWebhook at every start. Replicas behind
        # one webhook URL must agree on it (the last setWebhook wins), so the default is derived
        # from the token, which only the bot's own processes know.
        secret = (
            settings.webhook_secret.get_secret_value()
            if settings.webhook_secret
            else webhook_secret(application.bot.token)
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


def webhook_secret(token: str) -> str:
    """The default X-Telegram-Bot-Api-Secret-Token: 64 hex digits (Telegram allows 1-256 of
    A-Z, a-z, 0-9, _ and -), the same in every process of one bot, useless without the token."""
    return hmac.new(token.encode(), b"sanad webhook secret", hashlib.sha256).hexdigest()


class _NetworkRetryOneLine(logging.Filter):
    """python-telegram-bot logs each failed network call of its retry loops with the whole
    chained traceback (~240 lines for a refused connection); its message says what failed."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Network Retry Loop"):
            record.exc_info, record.exc_text = None, None
        return True


def run_or_explain(settings: Settings) -> int:
    """`run`, with a one-line error instead of a traceback when Telegram rejects the token or
    cannot be reached at start."""
    from telegram.error import InvalidToken, NetworkError

    logging.getLogger("telegram.ext").addFilter(_NetworkRetryOneLine())
    try:
        return run(settings)
    except InvalidToken:
        log.error("Telegram rejected TELEGRAM_BOT_TOKEN: check it with @BotFather")
        return 2
    except NetworkError as exc:
        log.error("cannot reach the Telegram Bot API at %s: %s", settings.api_base_url, exc)
        return 1


if __name__ == "__main__":
    sys.exit(main())
