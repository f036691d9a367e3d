"""Copies of the database: SQLite's online backup API (a consistent copy while the bot runs),
``pg_dump`` for PostgreSQL (the password goes to it through its environment, never its command line)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import URL

from core.database import describe


class BackupError(RuntimeError):
    """No backup could be made; the message says what to do instead."""


def backup(url: URL, destination: Path) -> Path:
    destination.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        return _sqlite(Path(url.database or ""), destination)
    return _pg_dump(url, destination)


def automatic_path(url: URL, folder: Path, revision: str) -> Path:
    """Where the backup made before upgrading to ``revision`` goes."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    if url.get_backend_name() == "sqlite":
        name = f"{Path(url.database or 'mouthpiece.db').stem}-before-{revision}-{stamp}.db"
    else:
        name = f"{url.database}-before-{revision}-{stamp}.dump"
    return folder / name


def pg_dump_hint(url: URL) -> str:
    """How to back a PostgreSQL database up by hand."""
    return (f"PGPASSWORD=... pg_dump --format=custom --file=mouthpiece.dump --host={url.host or 'localhost'} "
            f"--port={url.port or 5432} --username={url.username or '$USER'} {url.database}  "
            "(restore with pg_restore --clean --dbname=...)")


def _sqlite(source: Path, destination: Path) -> Path:
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    part = destination.with_name(destination.name + ".part")
    part.unlink(missing_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(part)
    try:
        with dst:
            src.backup(dst)
    finally:
        src.close()
        dst.close()
    os.replace(part, destination)
    return destination


def _pg_dump(url: URL, destination: Path) -> Path:
    program = shutil.which("pg_dump")
    if program is None:
        raise BackupError(f"pg_dump isn't installed here, so {describe(url)} can't be backed up from this machine. "
                          f"Install PostgreSQL's client programs, or back it up where they are: {pg_dump_hint(url)}")
    env = {**os.environ, "PGPASSWORD": url.password or os.environ.get("PGPASSWORD", "")}
    command = [program, "--format=custom", f"--file={destination}", f"--host={url.host or 'localhost'}",
               f"--port={url.port or 5432}", f"--dbname={url.database}", "--no-password"]
    if url.username:
        command.append(f"--username={url.username}")
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_dump could not back up {describe(url)}: {done.stderr.strip()}")
    return destination
