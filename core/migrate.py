"""The schema of every table, versioned with Alembic and brought up to date when the agent starts.

Mouthpiece's own revisions (core and built-in plugins) are in ``core/migrations/versions``, one
line of history labelled ``mouthpiece``. A third-party plugin with tables of its own ships a
folder of revisions whose first has ``down_revision = None`` and a branch label of its name, and
names the folder in its ``register_migrations`` hook; every line is upgraded to its head.

A database the code doesn't understand (a revision it doesn't know: made by a newer version, or
by a plugin no longer installed) is refused, never touched. Before a revision changes a table
that already holds data, the database is backed up; a revision that only adds new tables says
so with ``touches_existing_tables = False`` and needs none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, MetaData, inspect, text
from sqlmodel import SQLModel

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
VERSIONS = MIGRATIONS / "versions"
VERSION_TABLE = "alembic_version"
#: pg_advisory_xact_lock key: one process migrates at a time, the others then find nothing to do
_MIGRATION_LOCK = 0x6D6F7574_6D696772 & 0x7FFFFFFFFFFFFFFF


class MigrationError(RuntimeError):
    """The database can't be brought up to date; the message tells the operator what to do."""


class DatabaseNewerError(MigrationError):
    pass


def scripts(extra: Iterable[Path] = ()) -> ScriptDirectory:
    """Every revision: Mouthpiece's and those of the plugins' folders."""
    locations = [str(VERSIONS), *(str(Path(p)) for p in extra)]
    return ScriptDirectory(str(MIGRATIONS), version_locations=locations)


def current(connection: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())


def check_known(script: ScriptDirectory, heads: Iterable[str], where: str) -> None:
    """``DatabaseNewerError`` when the database is at a revision this code doesn't have."""
    for head in heads:
        try:
            script.get_revision(head)
        except CommandError:
            raise DatabaseNewerError(
                f"The database {where} is at revision {head}, which this version of Mouthpiece doesn't know: "
                "a newer version upgraded it (or a plugin that isn't installed now). Run that newer version, "
                "or restore the backup made before the upgrade. Nothing was changed.") from None


def pending(script: ScriptDirectory, heads: Sequence[str]) -> list[Script]:
    """The revisions not applied yet, oldest first."""
    applied = {rev.revision for head in heads for rev in script.iterate_revisions(head, "base")}
    return [rev for rev in reversed(list(script.walk_revisions())) if rev.revision not in applied]


def touches_existing_tables(revision: Script) -> bool:
    return bool(getattr(revision.module, "touches_existing_tables", True))


def upgrade(engine: Engine, extra: Iterable[Path] = (), *, where: str = "",
            backup: Callable[[str], Any] | None = None) -> list[str]:
    """Apply every pending revision; returns their ids. ``backup(revision)`` runs first when
    one of them may change a table that already holds rows."""
    script = scripts(extra)
    with engine.connect() as connection:
        heads = current(connection)
        check_known(script, heads, where)
        todo = pending(script, heads)
        tables = set(inspect(connection).get_table_names()) - {VERSION_TABLE}
    if not todo:
        return []
    if backup is not None and tables and any(touches_existing_tables(rev) for rev in todo):
        backup(todo[-1].revision)
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # pysqlite runs DDL outside any transaction: one of our own makes a failed revision leave
            # nothing behind, and IMMEDIATE keeps a second process from migrating at the same time
            connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        try:
            check_known(script, current(connection), where)  # another process may have moved on meanwhile
            _run(connection, script)
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
    applied = [rev.revision for rev in todo]
    log.info("database %s upgraded: %s", where, ", ".join(applied))
    return applied


def _run(connection: Connection, script: ScriptDirectory) -> None:
    def steps(rev: Any, _context: MigrationContext) -> Any:
        return script._upgrade_revs("heads", rev)

    with EnvironmentContext(Config(), script, fn=steps, destination_rev="heads") as env:
        env.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
        with env.begin_transaction():
            env.run_migrations()


def unmigrated(engine: Engine, metadata: MetaData) -> list[Any]:
    """How the tables made by the migrations differ from the models (empty when they agree).

    Tables absent from ``metadata`` (APScheduler's job store, other plugins' tables) are left out.
    """
    def ours(obj: Any, name: str | None, kind: str, reflected: bool, _compare_to: Any) -> bool:
        return not (kind == "table" and reflected and name not in metadata.tables)

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": ours, "compare_type": True})
        return list(compare_metadata(context, metadata))


def check_tables(engine: Engine, models: Iterable[type[SQLModel]]) -> None:
    """``MigrationError`` naming every table of ``models`` that no migration made."""
    present = set(inspect(engine).get_table_names())
    missing = sorted({str(model.__tablename__) for model in models} - present)
    if missing:
        raise MigrationError(
            f"no migration makes the table(s) {', '.join(missing)}: the plugin that declares them must ship "
            "migrations for its tables (see the README's Database section)")
