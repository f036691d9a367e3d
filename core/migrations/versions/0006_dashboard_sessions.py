"""Web dashboard sessions, kept so that a restart signs nobody out.

Revision ID: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None
touches_existing_tables = False


def upgrade() -> None:
    op.create_table(
        "dashboardsession",
        sa.Column("key", sa.String(), primary_key=True),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("server", sa.String(), nullable=True),
        sa.Column("server_name", sa.String(), nullable=False),
        sa.Column("csrf", sa.String(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_dashboardsession_expires_at", "dashboardsession", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_dashboardsession_expires_at", table_name="dashboardsession")
    op.drop_table("dashboardsession")
