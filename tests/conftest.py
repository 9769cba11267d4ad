"""Shared fixtures: one real embedding model per test session, small fakes for unit tests."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
SEED = ROOT / "corpus" / "data" / "libya-malta-security.txt"
DEMO = ROOT / "corpus" / "data" / "saudinewsnet_demo200.jsonl"


def model_cache_dir() -> Path:
    return Path(os.environ.get("MODEL_CACHE_DIR") or Path.home() / ".cache" / "sanad")


@pytest.fixture(scope="session")
def real_encoder():
    """The bundled multilingual-e5-small, converted once and loaded once per session."""
    from retrieval.encoder import load_encoder

    return load_encoder("default", model_cache_dir())


@pytest.fixture()
def fake_encoder():
    from tests.fakes import FakeEncoder

    return FakeEncoder()


# Retriever tests run against the embedded backend and an in-memory fake (tests/fakes.py,
# registered on import): the index-backend seam is what they prove.
# "pgvector" runs them on the session's PostgreSQL (`library_settings`).
BACKENDS = ["faiss-tantivy", "memory", pytest.param("pgvector", marks=pytest.mark.postgres)]


def library_settings(request, folder: Path, backend: str):
    """LibrarySettings of a new library under `folder`: SQLite and index files, or with
    "pgvector" a new database on the session's PostgreSQL server."""
    from retrieval.settings import LibrarySettings

    if backend == "pgvector":
        server = request.getfixturevalue("postgres_server")
        url = new_postgres_database(server, request.node.name)
    else:
        url = f"sqlite:///{folder / 'db.sqlite'}"
    return LibrarySettings(database_url=url, index_dir=folder / "index", index_backend=backend)


def new_postgres_database(server, label: str) -> str:
    """The SQLAlchemy URL of a new, empty database on `server` (a pgserver)."""
    import re
    import uuid

    from sqlalchemy.engine import make_url

    name = "t_" + re.sub(r"\W", "_", label.lower())[:40] + "_" + uuid.uuid4().hex[:8]
    server.psql(f"CREATE DATABASE {name};")
    base = make_url(server.get_uri())
    return base.set(drivername="postgresql+psycopg", database=name).render_as_string(
        hide_password=False
    )


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """An INDEX_BACKEND name."""
    import tests.fakes  # noqa: F401 - registers the "memory" backend

    return str(request.param)


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory):
    """A real PostgreSQL 16 with pgvector for the test session, from the `pgserver` wheel
    (the `postgres` extra), in a temporary folder; stopped and deleted at the end."""
    import pgserver

    server = pgserver.get_server(tmp_path_factory.mktemp("pgdata"), cleanup_mode="delete")
    yield server
    server.cleanup()


@pytest.fixture()
def postgres_url(postgres_server, request) -> str:
    """A SQLAlchemy URL of a new, empty database on the session's server, one per test."""
    return new_postgres_database(postgres_server, request.node.name)


@pytest.fixture()
def own_postgres(tmp_path_factory):
    """A PostgreSQL server of the test's own, which it may stop and start again (`outage`)."""
    import pgserver

    server = pgserver.get_server(tmp_path_factory.mktemp("own-pg"), cleanup_mode="delete")
    yield server
    server.cleanup()


@contextlib.contextmanager
def outage(server):
    """PostgreSQL stopped (fast shutdown: clients are disconnected) until the block ends, then
    started again on the same socket."""
    from pgserver._commands import pg_ctl

    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
    try:
        yield
    finally:
        server.ensure_postgres_running()
