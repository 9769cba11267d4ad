"""The schema release 37fa150 created with `create_all`: articles, passages, line shapes and
the bot's questions, votes and admin actions.

A database that release created has some or all of these tables (the CLI created the corpus's,
the bot added its own) and no `alembic_version`: a table that exists is adopted as it is, the
others are created.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from corpus.columns import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())

    def create_table(name: str, *columns: Any, **kw: Any) -> None:
        if name not in existing:
            op.create_table(name, *columns, **kw)

    create_table(
        "articles",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("external_id", sa.String(255), unique=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("source", sa.String(255)),
        sa.Column("url", sa.String(2048), index=True),
        sa.Column("published_at", UTCDateTime()),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False, index=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sqlite_autoincrement=True,
    )
    create_table(
        "passages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "article_id",
            sa.Integer(),
            sa.ForeignKey("articles.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("char_start", sa.Integer(), nullable=False),
        sa.Column("char_end", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False, index=True),
        sa.UniqueConstraint("article_id", "ordinal"),
        sqlite_autoincrement=True,
    )
    create_table(
        "line_shapes",
        sa.Column("key", sa.String(16), primary_key=True),
        sa.Column("articles", sa.Integer(), nullable=False),
    )
    create_table(
        "bot_queries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("question_id", sa.String(16), nullable=False, unique=True),
        sa.Column("user_hash", sa.String(64), nullable=False, index=True),
        sa.Column("chat_type", sa.String(16), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("question_chars", sa.Integer(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("top_score", sa.Float()),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False, index=True),
    )
    create_table(
        "bot_feedback",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("question_id", sa.String(16), nullable=False, index=True),
        sa.Column("user_hash", sa.String(64), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("question_id", "user_hash"),
    )
    create_table(
        "bot_admin_actions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_hash", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False, index=True),
    )


def downgrade() -> None:
    for table in (
        "bot_admin_actions",
        "bot_feedback",
        "bot_queries",
        "line_shapes",
        "passages",
        "articles",
    ):
        op.drop_table(table)
