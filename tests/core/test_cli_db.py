"""``mouthpiece db``: upgrade, current, history and backup, on SQLite and on PostgreSQL."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from core import migrate
from core.cli import app
from core.database import PASSWORD_ENV
from core.storage import RenderRecord, Storage
from tests.postgres import PostgresServer

runner = CliRunner()
REVISIONS = [rev.revision for rev in reversed(list(migrate.scripts().walk_revisions()))]
HEAD = REVISIONS[-1]


def config_file(tmp_path: Path, database: str | Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[agent]\ndatabase = "{database}"\ndata_dir = "{tmp_path}"\n')
    return path


def db(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["db", *args])
    return result.exit_code, result.output


def test_upgrade_current_history_and_backup(database: str | Path, tmp_path: Path) -> None:
    config = str(config_file(tmp_path, database))
    code, out = db("history", "-c", config)
    assert code == 0 and "  0001 [mouthpiece]" in out and f"  {HEAD}" in out, out
    code, out = db("upgrade", "-c", config)
    assert code == 0 and out.strip().endswith(": " + ", ".join(REVISIONS)), out
    code, out = db("upgrade", "-c", config)
    assert code == 0 and "nothing to do, it was up to date" in out, out
    code, out = db("current", "-c", config)
    assert code == 0 and f"at:      {HEAD}" in out and "none (up to date)" in out, out
    assert f"✓ {HEAD}" in db("history", "-c", config)[1]

    storage = Storage(database)
    storage.add(RenderRecord(platform="test", server_id="s", user_id="u", persona="neon", path="x.mp4",
                             duration=1.0, elapsed=0.1))
    copy = tmp_path / "copy.db"
    code, out = db("backup", str(copy), "-c", config)  # while the database is open
    storage.close()
    assert code == 0 and f"backed up to {copy}" in out, out
    if isinstance(database, Path):
        with sqlite3.connect(copy) as backup:
            assert backup.execute("SELECT persona FROM renderrecord").fetchall() == [("neon",)]
    else:
        listing = subprocess.run(["pg_restore", "--list", str(copy)], capture_output=True, text=True, check=True)
        assert "TABLE DATA public renderrecord" in listing.stdout
    code, out = db("backup", str(copy), "-c", config)
    assert code == 1 and "exists already" in out


def test_commands_on_a_missing_sqlite_file_say_so(tmp_path: Path) -> None:
    config = str(config_file(tmp_path, tmp_path / "none.db"))
    code, out = db("current", "-c", config)
    assert code == 1 and "there is no database at" in out and "mouthpiece db upgrade" in out
    assert not (tmp_path / "none.db").exists()


def test_a_newer_database_is_refused_by_upgrade_and_at_start(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    Storage(path).close()
    with sqlite3.connect(path) as database:
        database.execute("UPDATE alembic_version SET version_num = '0099'")
    code, out = db("upgrade", "-c", str(config_file(tmp_path, path)))
    assert code == 1 and "error: The database" in out and "Nothing was changed" in out and "Traceback" not in out
    started = runner.invoke(app, ["run", "-c", str(config_file(tmp_path, path))])  # a command starting the agent
    assert started.exit_code == 1 and "which this version of Mouthpiece doesn't know" in started.output


def test_postgres_password_from_the_environment_never_shown(postgres_server: PostgresServer, postgres_url: str,
                                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = str(config_file(tmp_path, postgres_url))
    code, out = db("upgrade", "-c", config)
    assert code == 0 and postgres_server.password not in out
    doctor = runner.invoke(app, ["doctor", "-c", config])
    assert doctor.exit_code == 0 and postgres_url in doctor.output and postgres_server.password not in doctor.output

    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    code, out = db("current", "-c", config)
    assert code == 1 and "can't use the database" in out and "password authentication failed" in out
    assert "not-the-password" not in out and "Traceback" not in out

    with_password = postgres_url.replace("mouthpiece@", f"mouthpiece:{postgres_server.password}@")
    code, out = db("current", "-c", str(config_file(tmp_path, with_password)))
    assert code == 1 and f"set {PASSWORD_ENV} instead" in out and postgres_server.password not in out
