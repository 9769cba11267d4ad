"""The database schema, kept by Alembic migrations (`corpus/migrations/versions/`).

One migration history covers the whole database: the corpus's tables, the bot's, and on
PostgreSQL the pgvector index's. `migrate` runs at every start (`Library.open`, `make run`)
and by `python -m retrieval migrate`; it brings a database of any earlier release to the
newest revision without losing rows, including one created before migrations existed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, text

MIGRATIONS: Final = Path(__file__).resolve().parent / "migrations"
# pg_advisory_xact_lock key: replicas starting together migrate one after the other
# (any 64-bit number the project owns; this one is "sanad" in ASCII).
_MIGRATION_LOCK: Final = 0x73616E6164
# Milliseconds a SQLite connection waits for another's write lock (store.create_db_engine),
# and, while migrating, for another process's migration (an upgrade of a large archive
# copies tables: seconds to minutes).
SQLITE_BUSY_TIMEOUT_MS: Final = 5_000
_SQLITE_MIGRATION_WAIT_MS: Final = 600_000

log = logging.getLogger(__name__)


def _config(connection: Connection, target: MetaData | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    config.attributes["target_metadata"] = target
    return config


def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine) -> None:
    """Upgrade the database to the newest revision, in one transaction (PostgreSQL and SQLite
    both run DDL transactionally: a failed migration leaves the database as it was).

    A database at the newest revision is only read. Processes migrating one database at once
    (replicas, a bot's search workers) take turns:
    PostgreSQL by an advisory lock, SQLite by taking its write lock before reading the
    revision (`BEGIN IMMEDIATE`; Python's sqlite3 would otherwise run DDL outside any
    transaction, and two processes would both create the tables). A waiting SQLite process
    gives up after `_SQLITE_MIGRATION_WAIT_MS` (sqlite3.OperationalError "database is locked").
    """
    if current_revision(engine) == head_revision():  # the usual start: no lock, no wait
        return
    with _migrating(engine) as connection:
        if MigrationContext.configure(connection).get_current_revision() == head_revision():
            return
        command.upgrade(_config(connection), "head")


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database back to `revision` (e.g. "0005"), for a rollback to the release that
    knew no later one; run by this release's code, which has the way down. Raises
    alembic.util.CommandError for a revision it does not know or that lies ahead."""
    with _migrating(engine) as connection:
        command.downgrade(_config(connection), revision)


@contextlib.contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """A transaction holding the migration lock (see `migrate`)."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        elif connection.dialect.name == "sqlite":
            connection.exec_driver_sql(f"PRAGMA busy_timeout={_SQLITE_MIGRATION_WAIT_MS}")
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            finally:
                connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        yield connection
