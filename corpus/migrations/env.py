"""Alembic environment: runs on the connection `corpus.schema.migrate` hands it.

`target_metadata` comes from the caller (`config.attributes["target_metadata"]`), so that
running the migrations imports no layer's models; tests pass the corpus's and the bot's to
compare them with the migrated schema.
"""

from __future__ import annotations

from alembic import context

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=config.attributes.get("target_metadata"),
    render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE by copy on SQLite
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
