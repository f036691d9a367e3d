"""A server's own personas (``!persona add``): their names in the server and their folders.

Revision ID: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None
touches_existing_tables = False


def upgrade() -> None:
    op.create_table(
        "serverpersona",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("platform", sa.String(), nullable=False),
        sa.Column("server_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False, unique=True),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("platform", "server_id", "name"),
    )
    op.create_index("ix_serverpersona_server_id", "serverpersona", ["server_id"])


def downgrade() -> None:
    op.drop_index("ix_serverpersona_server_id", table_name="serverpersona")
    op.drop_table("serverpersona")
