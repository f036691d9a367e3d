"""The dashboard's one-time sign-in links (``!dashboard``): only each code's SHA-256 is kept.

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None
touches_existing_tables = False


def upgrade() -> None:
    op.create_table(
        "signinlink",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code_hash", sa.String(), nullable=False),
        *(sa.Column(name, sa.String(), nullable=False)
          for name in ("platform", "server_id", "server_name", "user_id", "user_name")),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_signinlink_code_hash", "signinlink", ["code_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_signinlink_code_hash", table_name="signinlink")
    op.drop_table("signinlink")
