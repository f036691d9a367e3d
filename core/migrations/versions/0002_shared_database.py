"""For several bot processes on one database: memory rows carry a version, so two processes
updating the same member's memory can't overwrite each other's update, and a server has at
most one running contest, whichever process starts it.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

RUNNING = sa.text("status = 'open'")


def upgrade() -> None:
    with op.batch_alter_table("personamemory") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
    # Only one process ever ran on the database so far, but a crash between two steps could
    # have left a second running contest: close all but the newest before forbidding it.
    op.execute("UPDATE contest SET status = 'closed' WHERE status = 'open' AND id NOT IN "
               "(SELECT max(id) FROM contest WHERE status = 'open' GROUP BY platform, server_id)")
    op.create_index("uq_contest_running", "contest", ["platform", "server_id"], unique=True,
                    sqlite_where=RUNNING, postgresql_where=RUNNING)


def downgrade() -> None:
    op.drop_index("uq_contest_running", table_name="contest")
    with op.batch_alter_table("personamemory") as batch:
        batch.drop_column("version")
