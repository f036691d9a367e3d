from __future__ import annotations

import sqlite3
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


def test_render_records_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    storage = Storage(path)
    storage.add(RenderRecord(platform="discord", server_id="g", user_id="u", persona="neon",
                             path="out/x.mp4", duration=2.5, elapsed=0.2))
    storage.close()
    reopened = Storage(path)
    [record] = reopened.recent_renders()
    assert (record.persona, record.duration, record.cached) == ("neon", 2.5, False)


def test_persona_memory_is_kept_per_persona_platform_scope_and_user(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "state.db")
    storage.add(PersonaMemory(persona="sakura", platform="telegram", scope="chat-1", user_id="42",
                              user_name="Ada", facts_json='["likes jazz"]'))
    memory = recall(storage, "sakura", "telegram", "chat-1", "42")
    assert memory is not None and memory.facts == ["likes jazz"] and memory.turns == []
    assert recall(storage, "sakura", "telegram", "chat-2", "42") is None
    assert recall(storage, "neon", "telegram", "chat-1", "42") is None
