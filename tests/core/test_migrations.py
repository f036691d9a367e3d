"""The schema under Alembic: a database of version 0.1 upgraded with every row usable, a newer
one refused untouched, backups before a table changes, and no model without its migration."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, inspect, text
from sqlmodel import Field, SQLModel

from core import migrate
from core.agent import CORE_MODELS, Agent
from core.migrate import DatabaseNewerError, MigrationError
from core.plugins import build_plugin_manager, declared_models
from core.replies import VideoReply
from core.storage import KeptFile, RenderRecord, Storage
from core.testing.testbot import ADMIN, FakeClock, TestBot, User, test_config
from personas.memory import MemoryKey, MemoryStore
from plugins import announce

HEAD = migrate.scripts().get_current_head()

SCHEMA_0_1 = Path(__file__).with_name("schema_v0_1.sql")
DUE = datetime(2031, 3, 4, 8, 0, tzinfo=UTC)
BOB, CY = User(id="u2", name="Bob"), User(id="u3", name="Cy")
TABLES = ("announcement", "contest", "contestentry", "pollvote", "pollmessage", "personamemory", "serveroverride",
          "welcomeoptout", "membervoice", "renderrecord", "keptfile")


def version_0_1_database(path: Path) -> None:
    """A database as version 0.1 made it, with a community's state in it."""
    when = "2031-03-01 10:00:00.000000"
    entry = json.dumps([{"persona": "friendly", "path": str(path.parent / "ada.mp4"), "duration": 1.5}])
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA_0_1.read_text())
        db.execute("INSERT INTO announcement VALUES (1, 'test', 's1', 'news', 'c1', 'friendly', 'Pizza on Friday!', "
                   "'', 'Europe/Berlin', '2031-03-04 08:00:00.000000', '', 0.0, 'a1', ?)", (when,))
        db.execute("INSERT INTO contest VALUES (1, 'test', 's1', 'c1', 'Best evil laugh', 'friendly', "
                   "'2099-01-01 00:00:00.000000', 'a1', 'open', NULL, '[]', 0)")
        db.execute("INSERT INTO contestentry VALUES (1, 1, 'u1', 'Ada', 1, ?, ?)", (when, entry))
        db.execute("INSERT INTO contestentry VALUES (2, 1, 'u2', 'Bob', 1, ?, ?)", (when, entry.replace("ada", "bob")))
        for n, (user, option) in enumerate([("u2", "1.1"), ("u3", "1.1"), ("u1", "2.1")], 1):
            db.execute("INSERT INTO pollvote VALUES (?, 'test', 'contest-1', ?, ?, ?, NULL)", (n, user, option, when))
        db.execute("INSERT INTO pollmessage VALUES (1, 'test', 'm1', 'contest-1', '[\"1.1\"]')")
        db.execute("INSERT INTO personamemory VALUES (1, 'friendly', 'test', 's1', 'u1', 'Ada', ?, ?, '', ?, ?)",
                   (json.dumps([{"role": "user", "text": "I like jazz."}, {"role": "persona", "text": "Nice!"}]),
                    json.dumps(["likes jazz"]), when, when))
        db.execute("INSERT INTO serveroverride VALUES (1, 'test', 's1', 'persona', '\"friendly\"', 'a1', ?)", (when,))
        db.execute("INSERT INTO welcomeoptout VALUES (1, 'test', 's1', 'u9', ?)", (when,))
        db.execute("INSERT INTO renderrecord VALUES (1, ?, 'test', 's1', 'u1', 'friendly', 'x.mp4', 1.5, 0.2, 0, NULL)",
                   (when,))
        db.execute("INSERT INTO keptfile VALUES (1, ?, 'contest:1', NULL)", (str(path.parent / "ada.mp4"),))


def row_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        return {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES}


async def test_a_version_0_1_database_is_upgraded_with_every_row_there_and_usable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "mouthpiece.db"
    version_0_1_database(path)
    before = row_counts(path)
    clock = FakeClock(DUE - timedelta(hours=1))
    monkeypatch.setattr(announce, "clock", clock)
    config = test_config(tmp_path)
    config.engine.width = config.engine.height = 96
    config.engine.fps = 8
    async with Agent(config) as agent:
        with agent.storage.engine.connect() as connection:
            assert migrate.current(connection) == (HEAD,)
        assert row_counts(path) == before
        [backup] = (tmp_path / "backups").iterdir()  # the tables changed: a copy of the old state came first
        assert row_counts(backup) == before
        with sqlite3.connect(backup) as old:
            assert "version" not in {row[1] for row in old.execute("PRAGMA table_info(personamemory)")}

        bot = TestBot(agent)
        [listing] = bot.texts(await bot.send("!announce list", user=ADMIN))
        assert "#1" in listing and "Pizza on Friday!" in listing
        [standings] = bot.texts(await bot.send("!contest standings"))
        assert standings.endswith("1. Ada — 2 votes\n2. Bob — 1 vote"), standings
        await bot.vote("contest-1", "2.1", user=CY)  # Cy moves their vote: it moves, not doubles
        [standings] = bot.texts(await bot.send("!contest standings"))
        assert standings.endswith("1. Bob — 2 votes\n2. Ada — 1 vote"), standings
        assert "one contest at a time" in bot.texts(await bot.send(
            '!contest start "Another" --ends 1d', user=ADMIN))[0].lower()

        memory = MemoryStore(agent.storage, max_turns=10, max_facts=5, max_summary_chars=200)
        key = MemoryKey("friendly", "test", "s1", "u1")
        updated = memory.record(key, user_name="Ada", user_text="I play the sax.", reply_text="Cool!",
                                facts=["plays the sax"])
        assert [t["text"] for t in updated.turns] == ["I like jazz.", "Nice!", "I play the sax.", "Cool!"]
        assert updated.facts == ["likes jazz", "plays the sax"]

        clock.now = DUE + timedelta(minutes=1)
        assert await bot.advance(DUE + timedelta(minutes=1)) == ["announce-1"]
        [posted] = bot.posts("news")
        assert isinstance(posted, VideoReply) and posted.caption == "Pizza on Friday!" and posted.path.is_file()


def test_a_new_database_needs_no_backup_and_a_reopened_one_no_migration(tmp_path: Path) -> None:
    Storage(tmp_path / "state.db").close()
    reopened = Storage(tmp_path / "state.db")
    reopened.close()
    assert reopened.applied == [] and not (tmp_path / "backups").exists()


def plugin_revision(folder: Path, revision: str, down: str | None, body: str, *, touches: bool) -> Path:
    folder.mkdir(exist_ok=True)
    flag = "" if touches else "touches_existing_tables = False\n"
    label = '("notes",)' if down is None else "None"
    (folder / f"{revision}.py").write_text(
        f"import sqlalchemy as sa\nfrom alembic import op\n\nrevision = {revision!r}\ndown_revision = {down!r}\n"
        f"branch_labels = {label}\ndepends_on = None\n{flag}\n\ndef upgrade() -> None:\n    {body}\n")
    return folder


def test_a_backup_is_made_only_before_a_revision_that_changes_a_table(tmp_path: Path) -> None:
    path, folder = tmp_path / "state.db", tmp_path / "notes-migrations"
    Storage(path).close()
    plugin_revision(folder, "notes1", None, 'op.create_table("note", sa.Column("id", sa.Integer(), primary_key=True))',
                    touches=False)
    Storage(path, migrations=[folder]).close()
    assert not (tmp_path / "backups").exists()
    plugin_revision(folder, "notes2", "notes1", 'op.add_column("note", sa.Column("text", sa.String()))', touches=True)
    upgraded = Storage(path, migrations=[folder])
    upgraded.close()
    assert upgraded.applied == ["notes2"]
    [backup] = (tmp_path / "backups").iterdir()
    assert backup.name.startswith("state-before-notes2-")
    with sqlite3.connect(backup) as old:
        assert old.execute("SELECT version_num FROM alembic_version ORDER BY 1").fetchall() == [(HEAD,), ("notes1",)]


def test_a_database_newer_than_the_code_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    Storage(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE alembic_version SET version_num = '0099'")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(DatabaseNewerError, match="revision 0099, which this version of Mouthpiece doesn't know"):
        Storage(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest and not (tmp_path / "backups").exists()


def test_every_model_has_its_migration(database: str | Path) -> None:
    declared = [RenderRecord, KeptFile, *CORE_MODELS, *declared_models(build_plugin_manager())]
    metadata = MetaData()
    for model in declared:
        model.__table__.to_metadata(metadata)  # type: ignore[attr-defined]
    storage = Storage(database)
    try:
        assert migrate.unmigrated(storage.engine, metadata) == []
    finally:
        storage.close()
    # and every table class of Mouthpiece's own packages is declared by the code that owns it
    defined = {mapper.class_.__tablename__ for mapper in SQLModel._sa_registry.mappers
               if mapper.class_.__module__.split(".")[0] in ("core", "plugins", "personas")}
    assert defined == {model.__tablename__ for model in declared}


def test_a_model_without_a_migration_fails_loudly(tmp_path: Path) -> None:
    class UnmigratedPersona(SQLModel, table=True):  # e.g. a new table that came without its revision
        id: int | None = Field(default=None, primary_key=True)
        name: str

    try:
        with pytest.raises(MigrationError, match="no migration makes the table.s. unmigratedpersona"):
            Storage(tmp_path / "state.db", models=[UnmigratedPersona])
    finally:
        SQLModel.metadata.remove(UnmigratedPersona.__table__)  # type: ignore[attr-defined]
    storage = Storage(tmp_path / "state.db")
    changed = MetaData()
    for table in SQLModel.metadata.tables.values():
        table.to_metadata(changed)
    Table("renderrecord", changed, Column("bitrate", Integer()), extend_existing=True)
    Table("futuretable", changed, Column("id", Integer(), primary_key=True), Column("name", String()))
    found = {(diff[0], getattr(diff[-1], "name", diff[-1])) for diff in migrate.unmigrated(storage.engine, changed)}
    assert {("add_table", "futuretable"), ("add_column", "bitrate")} <= found, found
    storage.close()


def test_a_failed_plugin_revision_changes_nothing(database: str | Path, tmp_path: Path) -> None:
    folder = plugin_revision(tmp_path / "bad", "bad1", None,
                             'op.create_table("half", sa.Column("id", sa.Integer(), primary_key=True)); '
                             'op.execute("SELECT no_such_function()")', touches=False)
    Storage(database).close()
    with pytest.raises(Exception, match="no_such_function"):
        Storage(database, migrations=[folder])
    storage = Storage(database)
    with storage.engine.connect() as connection:
        assert migrate.current(connection) == (HEAD,)
        assert connection.execute(text("SELECT count(*) FROM renderrecord")).scalar() == 0
        assert "half" not in inspect(connection).get_table_names()
    storage.close()


def test_postgres_backs_up_with_pg_dump_before_a_changing_revision(postgres_url: str, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "notes-migrations"
    plugin_revision(folder, "notes1", None, 'op.create_table("note", sa.Column("id", sa.Integer(), primary_key=True))',
                    touches=False)
    Storage(postgres_url, migrations=[folder], data_dir=tmp_path).close()
    plugin_revision(folder, "notes2", "notes1", 'op.add_column("note", sa.Column("text", sa.String()))', touches=True)
    with monkeypatch.context() as without_pg_dump:
        without_pg_dump.setenv("PATH", str(tmp_path))
        with pytest.raises(MigrationError, match="pg_dump isn't installed here.*--no-backup"):
            Storage(postgres_url, migrations=[folder], data_dir=tmp_path)
    upgraded = Storage(postgres_url, migrations=[folder], data_dir=tmp_path)
    upgraded.close()
    assert upgraded.applied == ["notes2"]
    [dump] = (tmp_path / "backups").iterdir()
    schema = subprocess.run(["pg_restore", "--schema-only", "--table=note", "--file=-", str(dump)],
                            capture_output=True, text=True, check=True).stdout
    note = schema[schema.index("CREATE TABLE public.note"):]
    assert note[:note.index(");")].split() == ["CREATE", "TABLE", "public.note", "(", "id", "integer", "NOT", "NULL"]


def test_postgres_upgrade_without_backup_when_the_operator_made_one(postgres_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "notes-migrations"
    plugin_revision(folder, "notes1", None, 'op.create_table("note", sa.Column("id", sa.Integer(), primary_key=True))',
                    touches=False)
    Storage(postgres_url, migrations=[folder], data_dir=tmp_path).close()
    plugin_revision(folder, "notes2", "notes1", 'op.add_column("note", sa.Column("text", sa.String()))', touches=True)
    upgraded = Storage(postgres_url, migrations=[folder], data_dir=tmp_path, backup_first=False)
    upgraded.close()
    assert upgraded.applied == ["notes2"] and not (tmp_path / "backups").exists()
