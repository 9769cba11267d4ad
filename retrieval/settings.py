"""Where the corpus, the index and the model live; read from the environment by entry points."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from retrieval.encoder import DEFAULT_MODEL


@dataclass(frozen=True)
class LibrarySettings:
    database_url: str = "sqlite:///data/sanad.db"
    index_dir: Path = Path("data/index")
    model: str = DEFAULT_MODEL
    cache_dir: Path = Path.home() / ".cache" / "sanad"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LibrarySettings:
        """DATABASE_URL, INDEX_DIR, EMBEDDING_MODEL, MODEL_CACHE_DIR; defaults otherwise."""
        env = os.environ if env is None else env
        default = cls()
        return cls(
            database_url=env.get("DATABASE_URL") or default.database_url,
            index_dir=Path(env.get("INDEX_DIR") or default.index_dir),
            model=env.get("EMBEDDING_MODEL") or default.model,
            cache_dir=Path(env.get("MODEL_CACHE_DIR") or default.cache_dir),
        )
