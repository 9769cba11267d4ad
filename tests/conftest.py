"""Shared fixtures: one real embedding model per test session, small fakes for unit tests."""

from __future__ import annotations

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
BACKENDS = ["faiss-tantivy", "memory"]


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """An INDEX_BACKEND name."""
    import tests.fakes  # noqa: F401 - registers the "memory" backend

    return str(request.param)
