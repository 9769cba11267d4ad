"""Per-user rate limits in the database (`bot.ratelimit.SharedRateLimiter`), so that several
bot replicas on one PostgreSQL share them: a user over the limit on one is over it on all.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bot_rate_limits",
        sa.Column("user_hash", sa.String(64), primary_key=True),
        # JSON list of the window's event times, Unix seconds
        sa.Column("events", sa.Text(), nullable=False),
        sa.Column("warned", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("bot_rate_limits")
