from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.storage import RenderRecord, Storage
from personas.memory import PersonaMemory, recall


def test_database_is_created_in_wal_mode_with_every_table(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "nested" / "state.db")
    storage.close()
    with sqlite3.connect(tmp_path / "nested" / "state.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"renderrecord", "personamemory"} <= tables


def test_render_records_survive_a_reopen(database: str | Path) -> None:
    path = database
    storage = Storage(path)
    storage.add(RenderRecord(platform="discord", server_id="g", user_id="u", persona="neon",
                             path="out/x.mp4", duration=2.5, elapsed=0.2))
    storage.close()
    reopened = Storage(path)
    [record] = reopened.recent_renders()
    assert (record.persona, record.duration, record.cached) == ("neon", 2.5, False)


def test_persona_memory_is_kept_per_persona_platform_scope_and_user(database: str | Path) -> None:
    storage = Storage(database)
    storage.add(PersonaMemory(persona="sakura", platform="telegram", scope="chat-1", user_id="42",
                              user_name="Ada", facts_json='["likes jazz"]'))
    memory = recall(storage, "sakura", "telegram", "chat-1", "42")
    assert memory is not None and memory.facts == ["likes jazz"] and memory.turns == []
    assert recall(storage, "sakura", "telegram", "chat-2", "42") is None
    assert recall(storage, "neon", "telegram", "chat-1", "42") is None


def test_kept_files_until_released_or_expired(database: str | Path, tmp_path: Path) -> None:
    storage = Storage(database)
    now = datetime.now(UTC)
    storage.keep_files("contest:1", [tmp_path / "a.mp4", tmp_path / "sub" / ".." / "b.mp4"])
    storage.keep_files("announce:7", [tmp_path / "c.mp4"], until=now + timedelta(hours=1))
    assert storage.kept_paths(now) == {tmp_path / "a.mp4", tmp_path / "b.mp4", tmp_path / "c.mp4"}
    assert tmp_path / "c.mp4" not in storage.kept_paths(now + timedelta(hours=2))
    storage.release_files("contest:1")
    assert storage.kept_paths(now) == {tmp_path / "c.mp4"}


def test_a_database_older_than_version_0_1_gets_the_columns_it_lacked(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # a render record table as an earlier version made it
        db.execute("CREATE TABLE renderrecord (id INTEGER PRIMARY KEY, created_at DATETIME, platform VARCHAR, "
                   "server_id VARCHAR, user_id VARCHAR, persona VARCHAR, path VARCHAR, duration FLOAT, "
                   "elapsed FLOAT, cached BOOLEAN)")
        db.execute("INSERT INTO renderrecord VALUES (1, '2024-01-01 00:00:00', 'test', 's', 'u', 'neon', 'x.mp4', "
                   "1.0, 0.1, 0)")
    storage = Storage(path)
    [record] = storage.recent_renders()
    assert (record.persona, record.deleted_at) == ("neon", None)
