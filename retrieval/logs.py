"""Logging for every entry point (the CLI, the bot, workers): one format, quiet third-party
loggers, secrets redacted from every line."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# httpx logs every request URL at INFO, and Bot API URLs contain the token; at INFO,
# sentence-transformers draws a progress bar per question; bm25s sets itself to DEBUG;
# trafilatura and its helpers narrate every page a feed poll reads; alembic 1.20 lists its
# seven autogenerate plugins once a process has logging set up before it first migrates.
NOISY = (
    "alembic.runtime.plugins",
    "bm25s",
    "faiss",
    "httpx",
    "httpcore",
    "sentence_transformers",
    "transformers",
    "trafilatura",
    "htmldate",
    "courlan",
    "charset_normalizer",
    "apscheduler",
)


class RedactingFormatter(logging.Formatter):
    """Replace secrets wherever they would appear in a formatted log line, tracebacks
    included (request URLs and python-telegram-bot's InvalidToken message carry the token)."""

    def __init__(self, fmt: str, secrets: str | Iterable[str]) -> None:
        super().__init__(fmt)
        self.secrets = [secrets] if isinstance(secrets, str) else [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "<token>")
        return text


class QuietLibraries(logging.Filter):
    """Drops third-party records below WARNING, whatever level a library later sets on its own
    logger (bm25s sets DEBUG when it is first imported, after logging is configured)."""

    def filter(self, record: logging.LogRecord) -> bool:
        noisy = record.name.split(".")[0] in NOISY
        return not noisy or record.levelno >= logging.WARNING


def quiet_libraries() -> None:
    """Third-party loggers at WARNING."""
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)


def setup_logging(
    level: str = "INFO", *, secrets: Iterable[str] = (), fmt: str = LOG_FORMAT
) -> None:
    """Log to stderr at `level`, third-party loggers quiet, `secrets` never printed."""
    logging.basicConfig(level=level.upper(), format=fmt, stream=sys.stderr)
    quiet_libraries()
    # DEBUG is for this project's loggers: python-telegram-bot's would add ~7 lines a question,
    # request payloads included (benchmarks/load.py runs the bot at DEBUG to count batches)
    telegram = logging.getLogger("telegram")
    telegram.setLevel(max(logging.INFO, logging.getLogger().level))
    secrets = [s for s in secrets if s]
    for handler in logging.getLogger().handlers:
        handler.addFilter(QuietLibraries())
        if secrets:
            handler.setFormatter(RedactingFormatter(fmt, secrets))
