"""A scheduled announcement remembers the language it is spoken in (``!announce --lang``).

Revision ID: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("announcement") as batch:
        batch.add_column(sa.Column("lang", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("announcement") as batch:
        batch.drop_column("lang")
