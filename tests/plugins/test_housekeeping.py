"""The retention job: old rendered files go, the folders stay under their cap, files still
needed are kept, and the render records stay with the time their file was deleted."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.agent import Agent
from core.config import Config
from core.storage import RenderRecord
from core.testing.testbot import ADMIN, TestBot, test_config
from plugins.housekeeping import JOB_ID
from tests.media import speech_clip

DAY = 24 * 3600


@pytest.fixture
def bot_config(tmp_path: Path) -> Config:
    config = test_config(tmp_path)
    config.plugins.disabled = []
    config.engine.width = config.engine.height = 128
    config.engine.fps = 10
    return config


def make_file(path: Path, *, age: float, size: int = 1000) -> Path:
    """A file of ``size`` bytes last written ``age`` seconds ago."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(size))
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def record(bot: TestBot, path: Path) -> RenderRecord:
    row = bot.agent.storage.add(RenderRecord(platform="test", server_id="s1", user_id="u1", persona="neon",
                                             path=str(path), duration=1.0, elapsed=0.1))
    assert isinstance(row, RenderRecord)
    return row


def deleted_at(bot: TestBot, row: RenderRecord) -> datetime | None:
    with bot.agent.storage.session() as session:
        fresh = session.get(RenderRecord, row.id)
        assert fresh is not None
        return fresh.deleted_at


async def test_old_files_go_and_their_records_stay(testbot: TestBot) -> None:
    cache, out = testbot.agent.config.engine.cache_dir, testbot.agent.config.engine.output_dir
    old_video = make_file(cache / ("a" * 64 + ".mp4"), age=10 * DAY)
    old_meta = make_file(cache / ("a" * 64 + ".json"), age=10 * DAY, size=100)
    fresh = make_file(cache / ("b" * 64 + ".mp4"), age=1 * DAY)
    old_demo = make_file(out / "demo" / "hello.mp4", age=8 * DAY)
    stale_part = make_file(cache / ("c" * 64 + ".1a2b3c4d.part.mp4"), age=9 * DAY)
    scheduled = make_file(out / "announce" / "monday.mp4", age=10 * DAY)
    testbot.agent.storage.keep_files("announce:3", [scheduled])
    old_row, fresh_row = record(testbot, old_video), record(testbot, fresh)

    [answer] = testbot.texts(await testbot.send("!cleanup", user=ADMIN))
    assert answer.startswith("Housekeeping: deleted 4 file(s), freed 0.0 MB. 1 old file(s) are kept for pending posts.")
    assert not any(p.exists() for p in (old_video, old_meta, old_demo, stale_part))
    assert fresh.exists() and scheduled.exists()
    assert deleted_at(testbot, old_row) is not None and deleted_at(testbot, fresh_row) is None
    assert len(testbot.agent.storage.recent_renders()) == 2

    testbot.agent.storage.release_files("announce:3")
    await testbot.send("!cleanup", user=ADMIN)
    assert not scheduled.exists()


async def test_over_the_cap_the_oldest_go_first(testbot: TestBot) -> None:
    testbot.agent.config.housekeeping.max_folder_mb = 3500 / 2**20
    cache = testbot.agent.config.engine.cache_dir
    oldest_kept = make_file(cache / "k.mp4", age=5 * 3600)
    oldest = make_file(cache / "o.mp4", age=4 * 3600)
    older = make_file(cache / "p.mp4", age=3 * 3600)
    writing = make_file(cache / "q.5e6f7a8b.part.mp4", age=2 * 3600)
    newer = make_file(cache / "r.mp4", age=1 * 3600)
    testbot.agent.storage.keep_files("contest:9", [oldest_kept])

    [answer] = testbot.texts(await testbot.send("!cleanup", user=ADMIN))
    assert [p.exists() for p in (oldest_kept, oldest, older, writing, newer)] == [True, False, False, True, True]
    assert "deleted 2 file(s)" in answer and "now hold 0.0 MB" in answer


async def test_the_job_runs_on_schedule_and_keeps_its_time_across_a_restart(bot_config: Config) -> None:
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        old = make_file(bot_config.engine.cache_dir / "old.mp4", age=30 * DAY)
        next_run = agent.scheduler.get_job(JOB_ID).next_run_time
        assert timedelta(minutes=59) < next_run - datetime.now(UTC) <= timedelta(minutes=60)
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        assert agent.scheduler.get_job(JOB_ID).next_run_time == next_run
        assert await bot.advance(next_run) == [JOB_ID]
        assert not old.exists()
    bot_config.housekeeping.every_minutes = 15
    async with Agent(bot_config) as agent:
        assert agent.scheduler.get_job(JOB_ID).trigger.interval == timedelta(minutes=15)


async def test_members_cannot_run_it(testbot: TestBot) -> None:
    assert testbot.texts(await testbot.send("!cleanup")) == ["Only admins can use !cleanup."]


async def test_a_running_contest_keeps_its_entries(testbot: TestBot, tmp_path: Path) -> None:
    await testbot.send('!contest start "Keepers" --ends 2h', user=ADMIN)
    replies = await testbot.send("!contest enter", attachments=(speech_clip(tmp_path / "a.wav", "Ha ha!"),))
    [entry] = [r.video for r in replies if getattr(r, "video", None)]
    assert entry is not None
    ancient = time.time() - 30 * DAY
    for path in (entry, entry.with_suffix(".json")):  # the cache entry: video and metadata
        os.utime(path, (ancient, ancient))
    await testbot.send("!cleanup", user=ADMIN)
    assert entry.exists()
    await testbot.send("!contest end", user=ADMIN)
    await testbot.send("!cleanup", user=ADMIN)
    assert not entry.exists()
