"""Where the state lives: a SQLite file (the zero-setup default) or a PostgreSQL server's URL.

``[agent] database`` is a path, or a URL such as ``postgresql+psycopg://mouthpiece@db:5432/mouthpiece``
for a deployment of several bot processes on one database. The URL never holds the password: it
comes from ``MOUTHPIECE_DATABASE_PASSWORD``, so config.toml can be shared and the password is never
written, logged or echoed (``describe`` shows a URL without it).
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError

PASSWORD_ENV = "MOUTHPIECE_DATABASE_PASSWORD"


class DatabaseSettingError(ValueError):
    """``[agent] database`` can't be used; the message says why and what to do."""


def is_url(database: str | Path) -> bool:
    return isinstance(database, str) and "://" in database


def database_url(database: str | Path, environ: dict[str, str] | None = None) -> URL:
    """The SQLAlchemy URL of ``database`` with the password from the environment."""
    if not is_url(database):
        return URL.create("sqlite", database=str(Path(database)))
    try:
        url = make_url(str(database))
    except ArgumentError:
        raise DatabaseSettingError(f"[agent] database is not a database URL: {describe(database)}") from None
    if url.get_backend_name() != "postgresql":
        raise DatabaseSettingError(f"[agent] database: {url.get_backend_name()} is not supported; "
                                   "use a SQLite file path or a postgresql+psycopg:// URL")
    if url.password is not None:
        raise DatabaseSettingError(f"[agent] database must not contain the password; set {PASSWORD_ENV} instead")
    env = os.environ if environ is None else environ
    password = env.get(PASSWORD_ENV)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.set(password=password) if password else url


def describe(database: str | Path | URL) -> str:
    """``database`` for logs and messages: never its password."""
    if isinstance(database, URL):
        return database.render_as_string(hide_password=True)
    if is_url(database):
        try:
            return make_url(str(database)).render_as_string(hide_password=True)
        except ArgumentError:
            return "(an unreadable URL)"
    return str(database)


def open_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # pre_ping: a connection the server closed (restart, failover) is replaced instead of failing a request
    try:
        # timezone UTC: timestamps come back in UTC, whatever the server's own zone
        return create_engine(url, pool_pre_ping=True, hide_parameters=True,
                             connect_args={"options": "-c timezone=UTC"})
    except ImportError:
        raise DatabaseSettingError("PostgreSQL needs the psycopg driver: pip install 'mouthpiece[postgres]'") from None


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets the scheduler, the engine's threads and the adapters read while one writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
