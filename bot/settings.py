"""The bot's settings (see `.env.example`), read by the entry point only."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode
from telegram.constants import FloodLimit

from bot.searches import MAX_BATCH, MAX_WAIT, WORKERS
from retrieval.gate import MIN_RELEVANCE
from retrieval.query import MAX_QUESTION_CHARS, MODES, Mode
from retrieval.settings import EnvSettings, LibrarySettings, SettingsError
from retrieval.workers import PROCESSES as SEARCH_PROCESSES

__all__ = ["DEFAULT_MIN_RELEVANCE", "Secret", "Settings", "SettingsError", "parse_admin_ids"]

Secret = SecretStr  # shows as '**********' in str(), repr() and logs
DEFAULT_BASE_URL = "https://api.telegram.org"
MAX_TOP_K = 10  # a page of answers must fit one 4096-character message
# Probability (Hit.relevance) a passage needs to be shown as an answer (retrieval/gate.py).
DEFAULT_MIN_RELEVANCE = MIN_RELEVANCE
# The same probability for a new article to be sent to a topic's followers: an alert nobody
# asked for costs more than an answer shown to a question, so the bar is higher (calibrated
# on the train topics of benchmarks/follow_alerts.py).
DEFAULT_FOLLOW_RELEVANCE = 0.82


def parse_admin_ids(raw: str) -> frozenset[int]:
    """`"12, 34 56"` -> {12, 34, 56}; anything that is not an integer is an error."""
    ids = set()
    for part in raw.replace(",", " ").split():
        try:
            ids.add(int(part))
        except ValueError:
            raise SettingsError(f"{part!r} is not a Telegram user id") from None
    return frozenset(ids)


class Settings(EnvSettings):
    """Everything the bot needs to run; `Settings.load()` in production."""

    token: SecretStr | None = Field(None, validation_alias="TELEGRAM_BOT_TOKEN")
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(
        frozenset(), validation_alias="ADMIN_IDS"
    )
    telegram_base_url: str = Field(DEFAULT_BASE_URL, validation_alias="TELEGRAM_BASE_URL")
    webhook_url: str | None = Field(None, validation_alias="WEBHOOK_URL")
    webhook_listen: str = Field("0.0.0.0", validation_alias="WEBHOOK_LISTEN")
    webhook_port: int = Field(8443, ge=1, le=65535, validation_alias="WEBHOOK_PORT")
    webhook_secret: SecretStr | None = Field(None, validation_alias="WEBHOOK_SECRET")
    top_k: int = Field(3, ge=1, le=MAX_TOP_K, validation_alias="TOP_K")
    rate_limit_per_minute: int = Field(
        20, ge=1, le=10_000, validation_alias="RATE_LIMIT_PER_MINUTE"
    )
    min_relevance: float = Field(
        DEFAULT_MIN_RELEVANCE,
        ge=-1.0,
        le=1.0,
        allow_inf_nan=False,
        validation_alias="MIN_RELEVANCE",
    )
    search_mode: Mode = Field("hybrid", validation_alias="SEARCH_MODE")
    # Following topics (bot/follows.py): alerts a user gets a day at most, and how sure
    # retrieval.gate.about_topic must be that a new article is about the topic (calibrated by
    # benchmarks/follow_alerts.py)
    follow_max_per_day: int = Field(10, ge=1, le=1000, validation_alias="FOLLOW_MAX_PER_DAY")
    follow_min_relevance: float = Field(
        DEFAULT_FOLLOW_RELEVANCE,
        ge=0.0,
        le=1.0,
        allow_inf_nan=False,
        validation_alias="FOLLOW_MIN_RELEVANCE",
    )
    max_question_chars: int = Field(
        MAX_QUESTION_CHARS, ge=10, le=MAX_QUESTION_CHARS, validation_alias="MAX_QUESTION_CHARS"
    )
    flood_retries: int = Field(3, ge=0, le=10, validation_alias="FLOOD_RETRIES")
    flood_messages_per_second: float = Field(
        FloodLimit.MESSAGES_PER_SECOND,
        ge=0,
        le=1000,
        allow_inf_nan=False,
        validation_alias="FLOOD_MESSAGES_PER_SECOND",
    )
    search_batch: int = Field(MAX_BATCH, ge=1, le=64, validation_alias="SEARCH_BATCH")
    search_workers: int = Field(WORKERS, ge=1, le=8, validation_alias="SEARCH_WORKERS")
    search_processes: int = Field(SEARCH_PROCESSES, ge=0, le=8, validation_alias="SEARCH_PROCESSES")
    max_wait_seconds: float = Field(
        MAX_WAIT, gt=0, le=300, allow_inf_nan=False, validation_alias="MAX_WAIT_SECONDS"
    )
    user_hash_salt: SecretStr | None = Field(None, validation_alias="USER_HASH_SALT")
    log_level: str = Field("INFO", validation_alias="LOG_LEVEL")
    library: LibrarySettings = Field(default_factory=LibrarySettings)

    @field_validator("flood_messages_per_second")
    @classmethod
    def _flood_rate(cls, value: float) -> float:
        if 0 < value < 1:
            raise ValueError("must be 0 (no limit) or at least 1 message a second")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _admin_ids(cls, value: Any) -> Any:
        return parse_admin_ids(value) if isinstance(value, str) else value

    @field_validator("telegram_base_url", "webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("expected an http(s) URL")
        return value.rstrip("/") if value else value

    @field_validator("search_mode", mode="before")
    @classmethod
    def _mode(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() not in MODES:
            raise ValueError(f"{value.strip()!r} is not one of {', '.join(MODES)}")
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in logging.getLevelNamesMapping():
            raise ValueError("expected DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: Any) -> Self:
        """The bot's and the library's settings from one plain mapping of variables."""
        library = LibrarySettings.from_env(env)
        return super().from_env(env, library=library, **overrides)

    @classmethod
    def load(cls, env_file: Path | str | None = None, **overrides: Any) -> Self:
        """The process environment over `env_file`, for the bot and the library alike."""
        library = LibrarySettings.load(env_file)
        return super().load(env_file, library=library, **overrides)

    @property
    def api_base_url(self) -> str:
        """What python-telegram-bot prepends to the token: `{TELEGRAM_BASE_URL}/bot`."""
        return f"{self.telegram_base_url}/bot"

    @property
    def file_base_url(self) -> str:
        return f"{self.telegram_base_url}/file/bot"

    def hash_user(self, user_id: int) -> str:
        """A salted sha256 of a Telegram user id: what the database stores instead of the id."""
        salted = f"{self._salt()}:{user_id}".encode()
        return hashlib.sha256(salted).hexdigest()

    def _salt(self) -> str:
        if self.user_hash_salt is not None:
            return self.user_hash_salt.get_secret_value()
        # Stable across restarts for one bot; still unguessable without the token.
        seed = self.token.get_secret_value() if self.token else "sanad"
        return hashlib.sha256(f"sanad-user-salt:{seed}".encode()).hexdigest()
