"""Settings read from the environment and a `.env` file (pydantic-settings), by entry points only.

`EnvSettings` is the base of the library's settings here and of the bot's (`bot.settings`): every
field is named by its environment variable, empty values mean "the default", and a bad value
becomes one `SettingsError` line that names the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Self

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from retrieval.backends import DEFAULT_BACKEND, PGVECTOR, backend_names
from retrieval.encoder import DEFAULT_MODEL

DEFAULT_ENV_FILE = ".env"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _one_line(error: ValidationError) -> SettingsError:
    first = error.errors()[0]
    variable = ".".join(str(part) for part in first["loc"]) or error.title
    message = first["msg"].removeprefix("Value error, ")
    given = first.get("input")
    shown = f" (got {given!r})" if isinstance(given, str | int | float) else ""
    return SettingsError(f"{variable}: {message}{shown}")


class _MappingSource(EnvSettingsSource):
    """pydantic-settings' environment source, reading a given mapping instead of os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._env = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(
            self._env, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )


# Set only while `from_env` builds settings from a mapping.
_MAPPING: ContextVar[Mapping[str, str] | None] = ContextVar("settings_mapping", default=None)


class EnvSettings(BaseSettings):
    """Common behaviour: variables by name, blanks ignored, values stripped, frozen."""

    model_config = SettingsConfigDict(
        case_sensitive=True,
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
        populate_by_name=True,  # code and tests may pass fields by name...
        str_strip_whitespace=True,
    )

    @model_validator(mode="before")
    @classmethod
    def _blank_means_default(cls, values: Any) -> Any:
        if isinstance(values, dict):
            return {k: v for k, v in values.items() if not (isinstance(v, str) and not v.strip())}
        return values

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        mapping = _MAPPING.get()
        sources: tuple[PydanticBaseSettingsSource, ...] = (
            (_MappingSource(settings_cls, mapping),)
            if mapping is not None
            else (env_settings, dotenv_settings)
        )
        for source in sources:
            # ...but the environment only by the documented variable names: a stray TOKEN or
            # MODEL variable must never be taken for TELEGRAM_BOT_TOKEN or EMBEDDING_MODEL.
            source.config = {**source.config, "populate_by_name": False, "validate_by_name": False}
        return (init_settings, *sources)

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: Any) -> Self:
        """Settings from a plain mapping of variables (tests, embedding); nothing else is read."""
        token = _MAPPING.set(env)
        try:
            return cls(**overrides)
        except ValidationError as exc:
            raise _one_line(exc) from None
        finally:
            _MAPPING.reset(token)

    @classmethod
    def load(cls, env_file: Path | str | None = None, **overrides: Any) -> Self:
        """Settings from the process environment over `env_file` (default: $ENV_FILE or .env)."""
        env_file = env_file or os.environ.get("ENV_FILE") or DEFAULT_ENV_FILE
        try:
            return cls(_env_file=env_file, **overrides)  # type: ignore[call-arg]
        except ValidationError as exc:
            raise _one_line(exc) from None


class LibrarySettings(EnvSettings):
    """Where the corpus, the index and the model live (see `.env.example`)."""

    database_url: str = Field("sqlite:///data/sanad.db", validation_alias="DATABASE_URL")
    # pgvector only: searches (HNSW, BM25, the spelling table) read a PostgreSQL read replica
    database_read_url: str | None = Field(None, validation_alias="DATABASE_READ_URL")
    index_dir: Path = Field(Path("data/index"), validation_alias="INDEX_DIR")
    index_backend: str = Field(DEFAULT_BACKEND, validation_alias="INDEX_BACKEND")
    model: str = Field(DEFAULT_MODEL, validation_alias="EMBEDDING_MODEL")
    cache_dir: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "sanad", validation_alias="MODEL_CACHE_DIR"
    )

    # Live feeds (corpus.feeds): how often the bot polls them (and the unit of the backoff
    # after errors), and whether admin-given URLs may reach private, loopback or link-local
    # addresses (off: such a URL could read internal services or a cloud metadata endpoint)
    feed_poll_minutes: float = Field(15.0, ge=1, le=24 * 60, validation_alias="FEED_POLL_MINUTES")
    feed_allow_private_networks: bool = Field(False, validation_alias="FEED_ALLOW_PRIVATE_NETWORKS")

    @field_validator("database_read_url")
    @classmethod
    def _read_url(cls, value: str | None) -> str | None:
        return cls._database_url(value) if value else None  # empty: no read replica

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            make_url(value)
        except ArgumentError:
            raise ValueError("not a database URL (e.g. sqlite:///data/sanad.db)") from None
        return value

    @field_validator("index_backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        value = value.lower()
        if value not in backend_names():
            raise ValueError(f"{value!r} is not one of {', '.join(backend_names())}")
        return value

    @model_validator(mode="after")
    def _pgvector_needs_postgresql(self) -> LibrarySettings:
        if (
            self.index_backend == PGVECTOR
            and make_url(self.database_url).get_backend_name() != "postgresql"
        ):
            raise ValueError(
                "INDEX_BACKEND=pgvector keeps the index in the database: DATABASE_URL must be "
                "PostgreSQL (postgresql+psycopg://user:password@host/db)"
            )
        if self.database_read_url and self.index_backend != PGVECTOR:
            raise ValueError("DATABASE_READ_URL is read by INDEX_BACKEND=pgvector only")
        return self
