"""Bot settings from an environment mapping and a .env file; the token never shows."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.settings import (
    DEFAULT_MIN_RELEVANCE,
    Secret,
    Settings,
    SettingsError,
    parse_admin_ids,
)

TOKEN = "123456:ABC-secret-token"


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.token is None
    assert settings.telegram_base_url == "https://api.telegram.org"
    assert settings.api_base_url == "https://api.telegram.org/bot"
    assert settings.file_base_url == "https://api.telegram.org/file/bot"
    assert (settings.top_k, settings.rate_limit_per_minute) == (3, 20)
    assert settings.min_relevance == DEFAULT_MIN_RELEVANCE
    assert settings.admin_ids == frozenset()
    assert settings.webhook_url is None


def test_reads_every_variable() -> None:
    settings = Settings.from_env(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "ADMIN_IDS": "12, 34 56",
            "TELEGRAM_BASE_URL": "http://127.0.0.1:9000/",
            "WEBHOOK_URL": "https://bot.example/hook",
            "WEBHOOK_PORT": "8080",
            "TOP_K": "5",
            "RATE_LIMIT_PER_MINUTE": "7",
            "MIN_RELEVANCE": "0.8",
            "DATABASE_URL": "sqlite:///x.db",
        }
    )
    assert settings.token is not None and settings.token.get_secret_value() == TOKEN
    assert settings.admin_ids == {12, 34, 56}
    assert settings.api_base_url == "http://127.0.0.1:9000/bot"
    assert settings.webhook_url == "https://bot.example/hook" and settings.webhook_port == 8080
    assert (settings.top_k, settings.rate_limit_per_minute, settings.min_relevance) == (5, 7, 0.8)
    assert settings.library.database_url == "sqlite:///x.db"


@pytest.mark.parametrize(
    "env",
    [
        {"ADMIN_IDS": "12,abc"},
        {"TOP_K": "0"},
        {"TOP_K": "11"},
        {"TOP_K": "three"},
        {"RATE_LIMIT_PER_MINUTE": "-1"},
        {"MIN_RELEVANCE": "high"},
        {"TELEGRAM_BASE_URL": "api.telegram.org"},
        {"WEBHOOK_PORT": "70000"},
        {"FLOOD_MESSAGES_PER_SECOND": "0.5"},
        {"SEARCH_WORKERS": "0"},
        {"MAX_WAIT_SECONDS": "0"},
    ],
)
def test_malformed_values_name_the_variable(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match=next(iter(env))):
        Settings.from_env(env)


def test_token_never_shows(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN})
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("settings: %s %r", settings, settings.token)
    assert TOKEN not in caplog.text and TOKEN not in repr(settings) and TOKEN not in str(settings)
    assert str(Secret("x")) == "**********"


def test_user_hash_is_salted_stable_and_not_the_id() -> None:
    a = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN})
    b = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN})
    c = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "USER_HASH_SALT": "other"})
    assert a.hash_user(42) == b.hash_user(42) != c.hash_user(42)
    assert a.hash_user(42) != a.hash_user(43) and "42" not in a.hash_user(42)[:3]
    assert len(a.hash_user(42)) == 64


def test_env_file_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = """
# comment
export TELEGRAM_BOT_TOKEN="123:abc"
ADMIN_IDS=1,2
TOP_K = 4  # inline comment
EMPTY=
QUOTED='a # b'
DATABASE_URL='sqlite:///a # b.db'
not a line
"""
    for name in ("TELEGRAM_BOT_TOKEN", "ADMIN_IDS", "TOP_K", "DATABASE_URL", "ENV_FILE"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    settings = Settings.load(path)
    assert settings.token is not None and settings.token.get_secret_value() == "123:abc"
    assert settings.admin_ids == {1, 2} and settings.top_k == 4
    assert settings.library.database_url == "sqlite:///a # b.db"
    assert Settings.load(tmp_path / "missing").top_k == 3


def test_settings_error_is_one_line_naming_the_variable() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"TOP_K": "three"})
    assert "\n" not in str(caught.value) and str(caught.value).startswith("TOP_K: ")
    with pytest.raises(SettingsError, match="INDEX_BACKEND"):
        Settings.from_env({"INDEX_BACKEND": "elastic"})


def test_admin_ids() -> None:
    assert parse_admin_ids("") == frozenset()
    assert parse_admin_ids(" 5 ,6,,7 ") == {5, 6, 7}


def test_search_mode_defaults_to_hybrid_and_rejects_unknown_modes():
    import pytest

    from bot.settings import Settings, SettingsError

    assert Settings.from_env({}).search_mode == "hybrid"
    assert Settings.from_env({"SEARCH_MODE": "Dense"}).search_mode == "dense"
    with pytest.raises(SettingsError, match="SEARCH_MODE"):
        Settings.from_env({"SEARCH_MODE": "magic"})


def test_only_the_documented_variable_names_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TELEGRAM_BOT_TOKEN", "EMBEDDING_MODEL", "TOP_K", "USER_HASH_SALT", "ENV_FILE"):
        monkeypatch.delenv(name, raising=False)
    # field names, in any case, are not variables: a stray TOKEN must never reach Telegram
    monkeypatch.setenv("TOKEN", "ghp_unrelated")
    monkeypatch.setenv("token", "ghp_unrelated")
    monkeypatch.setenv("MODEL", "another-model")
    monkeypatch.setenv("top_k", "7")
    monkeypatch.setenv("LIBRARY", "x")
    settings = Settings.load("/nonexistent/.env")
    assert settings.token is None and settings.top_k == 3
    assert settings.library.model == "default"


def test_blank_values_mean_the_default() -> None:
    settings = Settings.from_env(
        {"TELEGRAM_BOT_TOKEN": "  ", "USER_HASH_SALT": " ", "TOP_K": " ", "INDEX_DIR": " "}
    )
    assert settings.token is None and settings.user_hash_salt is None and settings.top_k == 3
    assert str(settings.library.index_dir) == "data/index"
    assert settings.hash_user(42) != Settings.from_env({"USER_HASH_SALT": "x"}).hash_user(42)


@pytest.mark.parametrize(
    "env", [{"DATABASE_URL": "not a url"}, {"MIN_RELEVANCE": "nan"}, {"LOG_LEVEL": "LOUD"}]
)
def test_more_malformed_values_name_the_variable(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match=next(iter(env))):
        Settings.from_env(env)
