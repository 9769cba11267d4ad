"""The index inside PostgreSQL (INDEX_BACKEND=pgvector, `retrieval.backends.postgres`):
passage vectors in a `vector(384)` column under an HNSW index (cosine), BM25 postings of the
project's Arabic analyzer, the spelling table and the index's own settings. Nothing on SQLite,
where the index is files beside the database (`retrieval.index`).

384 is the bundled model's dimension (multilingual-e5-small); a model of another dimension
needs a migration of its own, and `retrieval.backends.postgres` says so instead of failing in SQL.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

DIM = 384


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    from pgvector.sqlalchemy import Vector  # the `postgres` extra; SQLite never gets here

    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.create_table(
        "index_meta",
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    # What the index holds: one row per passage, kept after the passage is deleted until the
    # next sync takes it out (its text gives the spelling table's decrements).
    op.create_table(
        "index_members",
        sa.Column("passage_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("key", postgresql.BYTEA(), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("terms", sa.Integer(), nullable=False),
        sa.Column("dense", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("text", sa.Text(), nullable=False),
    )
    op.create_index("index_members_pending", "index_members", ["dense", "length"])
    op.execute("CREATE SEQUENCE index_words_seq")
    op.create_table(
        "index_words",
        sa.Column("word", sa.Text(), primary_key=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
    )
    op.create_index("index_words_by_seq", "index_words", ["seq"])
    op.create_table(
        "index_embeddings",
        sa.Column("key", postgresql.BYTEA(), primary_key=True),
        sa.Column("embedding", Vector(DIM), nullable=False),
    )
    op.create_table(
        "passage_vectors",
        sa.Column(
            "passage_id",
            sa.Integer(),
            sa.ForeignKey("passages.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("embedding", Vector(DIM), nullable=False),
    )
    # m = 16 links per node (pgvector's default), ef_construction = 200 (default 64): on 12,406
    # real model vectors, at hnsw.ef_search = 400, recall@10 against exact search is 0.996
    # where the default graph gives 0.990; building costs about twice as much. (The searches'
    # ef_search: retrieval.backends.postgres.EF_SEARCH.)
    op.execute(
        "CREATE INDEX passage_vectors_hnsw ON passage_vectors "
        "USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 200)"
    )
    op.create_table(
        "lexical_postings",
        sa.Column("term", sa.Text(), nullable=False),
        sa.Column(
            "passage_id",
            sa.Integer(),
            sa.ForeignKey("passages.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("tf", sa.Integer(), nullable=False),
        sa.Column("terms", sa.Integer(), nullable=False),
        # (term) -> (passage, tf, length) in the index itself: BM25 by index-only scans
        sa.PrimaryKeyConstraint(
            "term", "passage_id", postgresql_include=["tf", "terms"], name="lexical_postings_pkey"
        ),
    )
    op.create_index("lexical_postings_passage", "lexical_postings", ["passage_id"])
    op.create_table(
        "lexical_terms",
        sa.Column("term", sa.Text(), primary_key=True),
        sa.Column("df", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in (
        "lexical_terms",
        "lexical_postings",
        "passage_vectors",
        "index_embeddings",
        "index_words",
        "index_members",
        "index_meta",
    ):
        op.drop_table(table)
    op.execute("DROP SEQUENCE IF EXISTS index_words_seq")
