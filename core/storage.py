"""The one SQLite database (through sqlmodel) that holds every state that must survive a restart."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Iterator

from sqlalchemy import event
from sqlmodel import Field, Session, SQLModel, create_engine, select


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


class Storage:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.url = f"sqlite:///{path}"
        self.engine = create_engine(self.url, connect_args={"check_same_thread": False})
        event.listen(self.engine, "connect", _sqlite_pragmas)
        _import_table_modules()
        SQLModel.metadata.create_all(self.engine)

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

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets the scheduler, the engine's threads and the adapters read while one writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _import_table_modules() -> None:
    """Tables defined outside this module register with SQLModel's metadata on import."""
    import core.polls  # noqa: F401
    import personas.memory  # noqa: F401
