"""A real PostgreSQL server for the tests: Debian's ``postgresql`` programs, started once per test
session in a temporary folder, listening on 127.0.0.1 at a free port, with a password (handed to
the agent through ``MOUTHPIECE_DATABASE_PASSWORD``, as in production).

``database`` runs a test twice, on SQLite and on PostgreSQL (ids ``sqlite``/``postgres``, so
``-k postgres`` picks the PostgreSQL runs); ``postgres_url`` gives a fresh empty database. The
tests are skipped, saying why, only where PostgreSQL's server programs are not installed.
Running as root (CI), the server runs as the ``postgres`` system user, which initdb requires.
"""

from __future__ import annotations

import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import Config
from core.database import PASSWORD_ENV
from core.testing.testbot import test_config

USER = "mouthpiece"


def server_programs() -> Path | None:
    """The folder of initdb and pg_ctl: Debian's newest version, or the ones on PATH."""
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    if debian:
        return debian[-1].parent
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and shutil.which("initdb") else None


class PostgresServer:
    def __init__(self, programs: Path) -> None:
        self.programs = programs
        self.folder = Path(tempfile.mkdtemp(prefix="mouthpiece-pg-"))
        self.data = self.folder / "data"
        self.password = secrets.token_urlsafe(16)
        self.port = _free_port()
        self._names = itertools.count()
        self._as: list[str] = []
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            account = pwd.getpwnam("postgres")
            os.chown(self.folder, account.pw_uid, account.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"] if shutil.which("runuser") else [
                "setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--init-groups"]

    def start(self) -> None:
        password_file = self.folder / "password"
        password_file.write_text(self.password)
        if self._as:
            shutil.chown(password_file, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", USER, "--auth=scram-sha-256", f"--pwfile={password_file}",
                  "-E", "UTF8", "--no-sync", "--locale=C")
        password_file.unlink()
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "server.log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh empty database; returns its URL (without the password)."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        self._admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database ``new_database`` made (connections still open to it are closed)."""
        self._admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=USER, password=self.password,
                             dbname="postgres", autocommit=True) as connection:
            connection.execute(statement)

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run([*self._as, str(self.programs / program), *args], capture_output=True, text=True,
                              cwd=self.folder)
        if done.returncode != 0:
            log = self.folder / "server.log"
            raise RuntimeError(f"{program} failed: {done.stderr.strip()} {log.read_text() if log.exists() else ''}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    programs = server_programs()
    if programs is None:
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed: apt-get install postgresql")
    server = PostgresServer(programs)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database on the test server; the password is in the environment, as in production.
    Dropped after the test: a gigabyte of databases left to the end took seconds to delete."""
    monkeypatch.setenv(PASSWORD_ENV, postgres_server.password)
    url = postgres_server.new_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """The test's database: a SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "mouthpiece.db"
    return str(request.getfixturevalue("postgres_url"))


def config_on(database: str | Path, tmp_path: Path) -> Config:
    """``test_config`` on ``database`` (files still under ``tmp_path``)."""
    config = test_config(tmp_path)
    config.agent.database = database
    config.agent.data_dir = tmp_path
    return config
