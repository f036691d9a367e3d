"""The one SQLite database (through sqlmodel) that holds every state that must survive a restart."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Iterable, Iterator

from sqlalchemy import Engine, event, inspect, text
from sqlmodel import Field, Session, SQLModel, col, create_engine, delete, select


def utcnow() -> datetime:
    return datetime.now(UTC)


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
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.url = f"sqlite:///{path}"
        self.engine = create_engine(self.url, connect_args={"check_same_thread": False})
        event.listen(self.engine, "connect", _sqlite_pragmas)
        _import_table_modules()
        SQLModel.metadata.create_all(self.engine)
        _add_new_columns(self.engine)

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


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets the scheduler, the engine's threads and the adapters read while one writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _add_new_columns(engine: Engine) -> None:
    """``create_all`` makes missing tables but never changes existing ones: add the
    nullable columns a newer version introduced to a database made by an older one."""
    inspector = inspect(engine)
    with engine.begin() as connection:
        for table in SQLModel.metadata.sorted_tables:
            if not inspector.has_table(table.name):
                continue
            present = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in present and column.nullable:
                    kind = column.type.compile(engine.dialect)
                    connection.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'))


def _import_table_modules() -> None:
    """Tables defined outside this module register with SQLModel's metadata on import."""
    import core.polls  # noqa: F401
    import personas.memory  # noqa: F401
    import personas.server_personas  # noqa: F401
