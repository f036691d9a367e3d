"""``mouthpiece db``: the database's schema version, its upgrade and its backup.

Heavy libraries are imported inside the commands, so ``mouthpiece --help`` stays instant.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from core.cli_common import config_option, fail, load

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from core.config import Config


@click.group("db", no_args_is_help=True)
def db_app() -> None:
    """The database: its schema version, upgrades and backups."""


def _migration_folders(config: Config) -> list[Path]:
    from core.plugins import build_plugin_manager, migration_folders

    return migration_folders(build_plugin_manager(config.plugins.disabled))


@contextmanager
def database_errors() -> Iterator[None]:
    """What can go wrong with the database, as one line for the operator (never the password)."""
    from sqlalchemy.exc import SQLAlchemyError

    from core.backup import BackupError
    from core.database import DatabaseSettingError
    from core.migrate import MigrationError

    try:
        yield
    except (DatabaseSettingError, MigrationError, BackupError) as error:
        raise fail(str(error)) from None
    except SQLAlchemyError as error:
        cause = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise fail(f"can't use the database: {cause}") from None


def _exists(config: Config) -> bool:
    from core.database import is_url

    return is_url(config.agent.database) or Path(config.agent.database).is_file()


@contextmanager
def _engine(config: Config) -> Iterator[Engine]:
    from core.database import database_url, open_engine

    with database_errors():
        if not _exists(config):
            raise fail(f"there is no database at {config.agent.database} yet: 'mouthpiece db upgrade' makes one")
        url = database_url(config.agent.database)
        engine = open_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


@db_app.command()
@config_option()
@click.option("--no-backup", is_flag=True,
              help="don't back up first (you made your own backup, e.g. without pg_dump here)")
def upgrade(config: Path | None, no_backup: bool) -> None:
    """Bring the database to this version's schema.

    The agent also does it when it starts. The database is backed up first when a revision changes a
    table that holds rows.
    """
    from core.storage import Storage

    settings = load(config)
    with database_errors():
        storage = Storage(settings.agent.database, migrations=_migration_folders(settings),
                          data_dir=settings.agent.data_dir, backup_first=not no_backup)
    storage.close()
    done = ", ".join(storage.applied) if storage.applied else "nothing to do, it was up to date"
    click.echo(f"{storage.description}: {done}")


@db_app.command()
@config_option()
def current(config: Path | None) -> None:
    """The database's revision, and the upgrades waiting."""
    from core import migrate

    settings = load(config)
    script = migrate.scripts(_migration_folders(settings))
    with _engine(settings) as engine, database_errors(), engine.connect() as connection:
        heads = migrate.current(connection)
        migrate.check_known(script, heads, "")
    waiting = migrate.pending(script, heads)
    click.echo(f"at:      {', '.join(heads) if heads else 'no revision (made before migrations, or empty)'}")
    click.echo("waiting: " + (", ".join(rev.revision for rev in waiting) if waiting else "none (up to date)"))


@db_app.command()
@config_option()
def history(config: Path | None) -> None:
    """Every revision this version knows; those applied are marked.

    Oldest first.
    """
    from core import migrate

    settings = load(config)
    script = migrate.scripts(_migration_folders(settings))
    applied: set[str] = set()
    if _exists(settings):  # without a database the history is still worth showing
        with _engine(settings) as engine, database_errors(), engine.connect() as connection:
            heads = migrate.current(connection)
            migrate.check_known(script, heads, "")
            applied = {rev.revision for head in heads for rev in script.iterate_revisions(head, "base")}
    for rev in reversed(list(script.walk_revisions())):
        mark = "✓" if rev.revision in applied else " "
        branch = f" [{', '.join(rev.branch_labels)}]" if rev.branch_labels else ""
        click.echo(f"{mark} {rev.revision}{branch}  {(rev.doc or '').splitlines()[0] if rev.doc else ''}")


@db_app.command()
@click.argument("path", type=click.Path(path_type=Path))
@config_option()
def backup(path: Path, config: Path | None) -> None:
    """Copy the database to a new file PATH, even while the bot runs.

    SQLite's online backup; pg_dump for PostgreSQL.
    """
    from core import backup as backups
    from core.database import database_url

    settings = load(config)
    if path.exists():
        raise fail(f"{path} exists already; name a new file")
    with database_errors():
        made = backups.backup(database_url(settings.agent.database), path)
    click.echo(f"backed up to {made}")
