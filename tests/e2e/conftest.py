"""Fixtures for the end-to-end tests: one emulator per session, a client per test."""

import itertools
import shutil
from collections.abc import Iterator

import pytest

from tests.e2e.harness import Client, Emulator

_ids = itertools.count(10_001)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """The Telegram Bot API emulator, started once per test session."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed; the Telegram emulator needs it")
    log = tmp_path_factory.mktemp("emulator") / "emulator.log"
    with Emulator(log_path=log) as emu:
        yield emu


@pytest.fixture
def tg(emulator: Emulator) -> Iterator[Client]:
    """The user side of the default bot."""
    with emulator.client() as client:
        yield client


@pytest.fixture
def user_id() -> int:
    """A user (and private chat) id no other test uses, so tests do not see each other."""
    return next(_ids)
