"""The bot's settings, read from an environment mapping by the entry point only."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.search import MODES, Mode
from retrieval.settings import LibrarySettings

DEFAULT_BASE_URL = "https://api.telegram.org"
MAX_TOP_K = 10  # a page of answers must fit one 4096-character message
# Cosine similarity (Hit.dense_score) a passage needs to be shown as an answer. Calibrated with
# benchmarks/relevance_threshold.py on the demo corpus: 22 hand-written news questions it answers
# scored 0.852-0.922 (expected article), 22 it cannot answer 0.784-0.850 (best hit); ARCD gold
# paragraphs scored median 0.879 (p5 0.817) and the same ARCD questions on the news corpus,
# which cannot answer them, median 0.807 (p95 0.836). 0.84 maximises TPR - FPR over all 764
# (TPR 0.86, FPR 0.03).
DEFAULT_MIN_RELEVANCE = 0.84


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Secret:
    """A string that never shows itself in repr(), str() or logs."""

    _value: str = field(repr=False)

    def get_secret_value(self) -> str:
        return self._value

    def __str__(self) -> str:
        return "**********"

    def __repr__(self) -> str:
        return "Secret('**********')"


@dataclass(frozen=True)
class Settings:
    """Everything the bot needs to run; build with `Settings.from_env`."""

    token: Secret | None = None
    admin_ids: frozenset[int] = frozenset()
    telegram_base_url: str = DEFAULT_BASE_URL
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: Secret | None = None
    top_k: int = 3
    rate_limit_per_minute: int = 20
    min_relevance: float = DEFAULT_MIN_RELEVANCE
    search_mode: Mode = "hybrid"
    max_question_chars: int = 1000
    flood_retries: int = 3
    user_hash_salt: Secret = field(default_factory=lambda: Secret("sanad"))
    library: LibrarySettings = field(default_factory=LibrarySettings)

    @property
    def api_base_url(self) -> str:
        """What python-telegram-bot prepends to the token: `{TELEGRAM_BASE_URL}/bot`."""
        return f"{self.telegram_base_url.rstrip('/')}/bot"

    @property
    def file_base_url(self) -> str:
        return f"{self.telegram_base_url.rstrip('/')}/file/bot"

    def hash_user(self, user_id: int) -> str:
        """A salted sha256 of a Telegram user id: what the database stores instead of the id."""
        salted = f"{self.user_hash_salt.get_secret_value()}:{user_id}".encode()
        return hashlib.sha256(salted).hexdigest()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read TELEGRAM_BOT_TOKEN, ADMIN_IDS, TOP_K, ... (see .env.example); defaults otherwise."""
        token = _secret(env.get("TELEGRAM_BOT_TOKEN"))
        salt = _secret(env.get("USER_HASH_SALT"))
        if salt is None:
            # Stable across restarts for one bot; still unguessable without the token.
            seed = token.get_secret_value() if token else "sanad"
            salt = Secret(hashlib.sha256(f"sanad-user-salt:{seed}".encode()).hexdigest())
        return cls(
            token=token,
            admin_ids=parse_admin_ids(env.get("ADMIN_IDS", "")),
            telegram_base_url=_url(env, "TELEGRAM_BASE_URL") or DEFAULT_BASE_URL,
            webhook_url=_url(env, "WEBHOOK_URL"),
            webhook_listen=env.get("WEBHOOK_LISTEN", "").strip() or "0.0.0.0",
            webhook_port=_int(env, "WEBHOOK_PORT", 8443, 1, 65535),
            webhook_secret=_secret(env.get("WEBHOOK_SECRET")),
            top_k=_int(env, "TOP_K", 3, 1, MAX_TOP_K),
            rate_limit_per_minute=_int(env, "RATE_LIMIT_PER_MINUTE", 20, 1, 10_000),
            min_relevance=_float(env, "MIN_RELEVANCE", DEFAULT_MIN_RELEVANCE, -1.0, 1.0),
            search_mode=_mode(env),
            # retrieval cuts questions at 1000 characters (MAX_QUESTION_CHARS in search.py)
            max_question_chars=_int(env, "MAX_QUESTION_CHARS", 1000, 10, 1000),
            flood_retries=_int(env, "FLOOD_RETRIES", 3, 0, 10),
            user_hash_salt=salt,
            library=LibrarySettings.from_env(env),
        )


def parse_admin_ids(raw: str) -> frozenset[int]:
    """`"12, 34 56"` -> {12, 34, 56}; anything that is not an integer is an error."""
    ids = set()
    for part in raw.replace(",", " ").split():
        try:
            ids.add(int(part))
        except ValueError:
            raise SettingsError(f"ADMIN_IDS: {part!r} is not a Telegram user id") from None
    return frozenset(ids)


def parse_env_file(text: str) -> dict[str, str]:
    """Parse a simple `.env` file: KEY=VALUE lines, `#` comments, optional quotes and `export`."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key.strip()] = value
    return values


def load_env_file(path: Path) -> dict[str, str]:
    """The values of a `.env` file, or nothing when it does not exist."""
    return parse_env_file(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _secret(raw: str | None) -> Secret | None:
    raw = (raw or "").strip()
    return Secret(raw) if raw else None


def _url(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.startswith(("http://", "https://")):
        raise SettingsError(f"{name}: expected an http(s) URL, got {raw!r}")
    return raw.rstrip("/")


def _mode(env: Mapping[str, str]) -> Mode:
    raw = env.get("SEARCH_MODE", "").strip().lower() or "hybrid"
    for mode in MODES:
        if raw == mode:
            return mode
    raise SettingsError(f"SEARCH_MODE: {raw!r} is not one of {', '.join(MODES)}")


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}: {raw!r} is not an integer") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}: {value} is outside {low}..{high}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}: {raw!r} is not a number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}: {value} is outside {low}..{high}")
    return value
