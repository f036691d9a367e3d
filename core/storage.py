"""The one database (through sqlmodel) that holds every state that must survive a restart."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Iterable, Iterator

from sqlmodel import Field, Session, SQLModel, col, delete, select

from core import backup, migrate
from core.database import database_url, describe, open_engine

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A datetime read back from the database, in UTC: SQLite hands them back without their zone,
    and they are stored in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class RenderRecord(SQLModel, table=True):
    """One finished render: who asked, for which persona, where the file is."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    platform: str
    server_id: str
    user_id: str
    persona: str
    path: str
    duration: float
    elapsed: float
    cached: bool = False
    #: When housekeeping deleted the file; the record itself is kept.
    deleted_at: datetime | None = None


class KeptFile(SQLModel, table=True):
    """A rendered file housekeeping must not delete yet (an entry of a running contest,
    a video made in advance for a scheduled post): ``owner`` names who keeps it."""

    id: int | None = Field(default=None, primary_key=True)
    path: str = Field(index=True)
    owner: str = Field(index=True)
    until: datetime | None = None  # kept for good when empty, until released


class Storage:
    """The agent's database: a SQLite file (``database`` a path) or PostgreSQL (a URL), migrated
    to the current schema on opening (see ``core.migrate``); ``migrations`` are plugins' folders
    of revisions, ``models`` the table classes besides this module's that must then exist (the
    agent's own and those plugins declare through ``register_models``). Before a migration
    changes a table that holds rows, a backup goes to ``data_dir/backups`` (``data_dir``: the
    SQLite file's folder unless given), unless ``backup_first`` is False (the operator made
    their own)."""

    def __init__(self, database: str | Path, *, migrations: Iterable[Path] = (),
                 models: Iterable[type[SQLModel]] = (), data_dir: Path | None = None,
                 environ: dict[str, str] | None = None, backup_first: bool = True) -> None:
        self.url = database_url(database, environ)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.path: Path | None = Path(self.url.database or "") if self.is_sqlite else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir or (self.path.parent if self.path is not None else Path("data"))
        self.description = describe(self.url)
        self.engine = open_engine(self.url)
        try:
            #: the revisions this opening applied
            self.applied = migrate.upgrade(self.engine, migrations, where=self.description,
                                           backup=self._backup_before if backup_first else None)
            migrate.check_tables(self.engine, [RenderRecord, KeptFile, *models])
        except BaseException:
            self.engine.dispose()
            raise

    def _backup_before(self, revision: str) -> None:
        destination = backup.automatic_path(self.url, self.data_dir / "backups", revision)
        try:
            made = backup.backup(self.url, destination)
        except backup.BackupError as error:
            raise migrate.MigrationError(f"not upgrading {self.description} without a backup: {error} "
                                         "(with a backup of your own: mouthpiece db upgrade --no-backup)") from None
        log.warning("database %s backed up to %s before upgrading it", self.description, made)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def add(self, row: SQLModel) -> SQLModel:
        with self.session() as session:
            session.add(row)
            session.commit()
            session.refresh(row)
        return row

    def recent_renders(self, limit: int = 20) -> list[RenderRecord]:
        with self.session() as session:
            query = select(RenderRecord).order_by(RenderRecord.id.desc()).limit(limit)  # type: ignore[union-attr]
            return list(session.exec(query))

    def keep_files(self, owner: str, paths: Iterable[Path | str], until: datetime | None = None) -> None:
        """Protect ``paths`` from housekeeping for ``owner`` (until ``release_files`` or ``until``)."""
        with self.session() as session:
            session.add_all(KeptFile(path=str(Path(p).resolve()), owner=owner, until=until) for p in paths)
            session.commit()

    def release_files(self, owner: str) -> None:
        with self.session() as session:
            session.exec(delete(KeptFile).where(col(KeptFile.owner) == owner))
            session.commit()

    def kept_paths(self, now: datetime) -> set[Path]:
        """The resolved paths someone still keeps at ``now``."""
        with self.session() as session:
            rows = session.exec(select(KeptFile))
            return {Path(r.path) for r in rows if r.until is None or r.until.replace(tzinfo=UTC) > now}

    def close(self) -> None:
        self.engine.dispose()

