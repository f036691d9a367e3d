"""The schema of version 0.1, the last made by ``create_all``.

On a new database this makes every table. On one made before migrations existed it makes
the tables that database lacks and adds the nullable columns its version didn't have yet
(what the old start-up step did), so every earlier database arrives at the same schema.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = ("mouthpiece",)
depends_on = None

_meta = sa.MetaData()


def _table(name: str, *columns: sa.Column, uniques: tuple[tuple[str, ...], ...] = (),
           extra: tuple[sa.schema.SchemaItem, ...] = ()) -> sa.Table:
    return sa.Table(name, _meta, sa.Column("id", sa.Integer(), primary_key=True), *columns,
                    *(sa.UniqueConstraint(*u) for u in uniques), *extra)


def _text(name: str, *, index: bool = False, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(), nullable=nullable, index=index)


def _when(name: str, *, index: bool = False, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, index=index)


TABLES = [
    _table("renderrecord", _when("created_at", index=True), _text("platform"), _text("server_id"), _text("user_id"),
           _text("persona"), _text("path"), sa.Column("duration", sa.Float(), nullable=False),
           sa.Column("elapsed", sa.Float(), nullable=False), sa.Column("cached", sa.Boolean(), nullable=False),
           _when("deleted_at", nullable=True)),
    _table("keptfile", _text("path", index=True), _text("owner", index=True), _when("until", nullable=True)),
    _table("pollvote", _text("platform", index=True), _text("poll_id", index=True), _text("user_id"),
           _text("option"), _when("at"), _text("previous", nullable=True),
           uniques=(("platform", "poll_id", "user_id"),)),
    _table("pollmessage", _text("platform"), _text("message_id"), _text("poll_id"), _text("options_json"),
           uniques=(("platform", "message_id"),)),
    _table("serveroverride", _text("platform", index=True), _text("server_id", index=True), _text("key"),
           _text("value_json"), _text("changed_by"), _when("changed_at"),
           uniques=(("platform", "server_id", "key"),)),
    _table("personamemory", _text("persona", index=True), _text("platform"), _text("scope"),
           _text("user_id", index=True), _text("user_name"), _text("turns_json"), _text("facts_json"),
           _text("summary"), _when("first_seen"), _when("last_seen"),
           uniques=(("persona", "platform", "scope", "user_id"),)),
    _table("membervoice", _text("platform"), _text("user_id", index=True), _text("file_name"), _text("sha256"),
           sa.Column("duration", sa.Float(), nullable=False), _when("created_at"),
           uniques=(("platform", "user_id"),)),
    _table("announcement", _text("platform", index=True), _text("server_id", index=True), _text("channel_id"),
           _text("origin_channel_id"), _text("persona"), _text("text"), _text("crontab"), _text("timezone"),
           _when("next_post_at"), _text("video_path"), sa.Column("video_duration", sa.Float(), nullable=False),
           _text("created_by"), _when("created_at")),
    _table("contest", _text("platform", index=True), _text("server_id", index=True), _text("channel_id"),
           _text("theme"), _text("personas_csv"), _when("ends_at"), _text("started_by"),
           _text("status", index=True), _when("closed_at", nullable=True), _text("standings_json"),
           sa.Column("announce_attempts", sa.Integer(), nullable=False)),
    _table("contestentry", sa.Column("contest_id", sa.Integer(), sa.ForeignKey("contest.id"), nullable=False,
                                     index=True),
           _text("user_id"), _text("user_name"), sa.Column("revision", sa.Integer(), nullable=False),
           _when("entered_at"), _text("videos_json"), uniques=(("contest_id", "user_id"),)),
    _table("welcomeoptout", _text("platform"), _text("server_id"), _text("user_id"), _when("at"),
           uniques=(("platform", "server_id", "user_id"),)),
    # APScheduler's job store, in the form its SQLAlchemyJobStore makes it
    sa.Table("scheduled_jobs", _meta, sa.Column("id", sa.Unicode(191), primary_key=True),
             sa.Column("next_run_time", sa.Float(25), index=True),
             sa.Column("job_state", sa.LargeBinary(), nullable=False)),
]


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    for table in TABLES:
        if not inspector.has_table(table.name):
            table.create(bind)
            continue
        present = {c["name"] for c in inspector.get_columns(table.name)}
        missing = [c for c in table.columns if c.name not in present and c.nullable]
        if missing:
            with op.batch_alter_table(table.name) as batch:
                for column in missing:
                    batch.add_column(sa.Column(column.name, column.type, nullable=True))


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table.name)
