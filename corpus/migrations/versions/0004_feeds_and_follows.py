"""Live feeds (`corpus.feeds`): the feeds followed and the stories seen in them; the bot's
followed topics and the alerts sent for them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from corpus.columns import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url", sa.String(2048), nullable=False, unique=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("etag", sa.String(1024)),
        sa.Column("last_modified", sa.String(128)),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.Column("polled_at", UTCDateTime()),
        sa.Column("ok_at", UTCDateTime()),
        sa.Column("last_error", sa.Text()),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_poll_at", UTCDateTime()),
        sa.Column("items_seen", sa.Integer(), nullable=False),
        sa.Column("articles_added", sa.Integer(), nullable=False),
        sa.Column("lease_until", UTCDateTime()),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "feed_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url", sa.String(2048), nullable=False, unique=True),
        sa.Column(
            "feed_id", sa.Integer(), sa.ForeignKey("feeds.id", ondelete="SET NULL"), index=True
        ),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("seen_at", UTCDateTime(), nullable=False, index=True),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "bot_follows",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False, index=True),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("chat_id", "topic"),
    )
    op.create_table(
        "bot_alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("follow_id", sa.Integer(), sa.ForeignKey("bot_follows.id", ondelete="SET NULL")),
        sa.Column("created_at", UTCDateTime(), nullable=False, index=True),
        sa.UniqueConstraint("chat_id", "article_id"),
    )


def downgrade() -> None:
    for table in ("bot_alerts", "bot_follows", "feed_items", "feeds"):
        op.drop_table(table)
