"""A denser HNSW graph for the passage vectors (INDEX_BACKEND=pgvector): m 24 links per node
instead of 16, so that searches reach the same recall with a shorter candidate list
(`retrieval.backends.postgres.EF_SEARCH`). Nothing on SQLite.

The graph is rebuilt from the rows already there, in this migration's transaction: writes to
`passage_vectors` wait meanwhile, searches go on. On this 2-core machine with PostgreSQL's
default maintenance_work_mem (64 MB) 60,000 passages take a few minutes; a larger
maintenance_work_mem, set on the server for the upgrade, shortens it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _graph(m: int) -> None:
    op.execute("DROP INDEX IF EXISTS passage_vectors_hnsw")
    op.execute(
        "CREATE INDEX passage_vectors_hnsw ON passage_vectors "
        f"USING hnsw (embedding vector_cosine_ops) WITH (m = {m}, ef_construction = 200)"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _graph(24)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _graph(16)
