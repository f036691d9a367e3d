"""Several bot processes on one PostgreSQL database: scheduled jobs run in one of them (and in
another once it dies), and concurrent votes, entries and memory writes are each counted once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.base import STATE_RUNNING

from core.agent import Agent
from core.config import Config
from core.events import VoteEvent
from core.polls import Polls
from core.storage import Storage
from core.testing.testbot import ADMIN, CHANNEL, TestBot, User
from personas.memory import MemoryKey, MemoryStore
from plugins.announce import Announcer, job_id
from plugins.contest import models
from plugins.contest.models import Contest, EntryVideo
from tests.postgres import config_on

REPO = Path(__file__).resolve().parents[2]
#: How long a process may take to notice something (start, a post, a takeover) before the test fails.
PATIENCE = 60.0


async def eventually(condition: Callable[[], Any], what: str) -> Any:
    """Wait for another process (or the event loop) to make ``condition`` true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    while not (result := condition()):
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
    return result


def shared_config(tmp_path: Path, database: str) -> Config:
    config = config_on(database, tmp_path)
    config.agent.leader_check_seconds = 0.1
    config.engine.width = config.engine.height = 96
    config.engine.fps = 8
    return config


def config_toml(config: Config, path: Path) -> Path:
    agent, engine = config.agent, config.engine
    path.write_text(
        f'[agent]\ndatabase = "{agent.database}"\ndata_dir = "{agent.data_dir}"\n'
        f"leader_check_seconds = {agent.leader_check_seconds}\n"
        f'[engine]\nwidth = {engine.width}\nheight = {engine.height}\nfps = {engine.fps}\n'
        f'output_dir = "{engine.output_dir}"\ncache_dir = "{engine.cache_dir}"\n'
        f'[personas]\nuser_dirs = ["{config.personas.user_dirs[0]}"]\n[plugins]\ndisabled = ["housekeeping"]\n')
    return path


@pytest.fixture
def other_process(tmp_path: Path, postgres_url: str) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """A second bot process on the same database (started first, so it leads); its posts go to a file."""
    posts = tmp_path / "posts.jsonl"
    posts.touch()
    config = config_toml(shared_config(tmp_path, postgres_url), tmp_path / "other.toml")
    process = subprocess.Popen([sys.executable, "-m", "tests.agent_process", str(config), str(posts)], cwd=REPO,
                               stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    yield process, posts
    process.kill()
    process.wait()


def lines(posts: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in posts.read_text().splitlines()]


async def schedule(bot: TestBot, text: str) -> int:
    [answer] = bot.texts(await bot.send(f"!announce at 2099-01-01T09:00 {text}", user=ADMIN))
    assert answer.startswith("Scheduled announcement #"), answer
    return int(answer.removeprefix("Scheduled announcement #").split()[0])


def runs_schedule(agent: Agent) -> bool:
    """This process leads and its scheduler runs. ``leadership.held`` alone turns true a moment earlier,
    in the thread that took the lock, before the jobs are registered again from their rows (which
    would undo a ``make_due`` made in between) and the scheduler resumed."""
    return agent.leadership.held and agent.scheduler.state == STATE_RUNNING


def make_due(agent: Agent, announcement_id: int) -> None:
    """Move the stored job to now, as the clock reaching it would (the row keeps its 2099 date)."""
    agent.scheduler.modify_job(job_id(announcement_id), next_run_time=datetime.now(UTC))


async def test_postgres_a_scheduled_announcement_is_posted_once_and_taken_over_when_the_leader_dies(
        other_process: tuple[subprocess.Popen[str], Path], tmp_path: Path, postgres_url: str) -> None:
    process, posts = other_process
    assert process.stdout is not None
    assert await asyncio.to_thread(process.stdout.readline) == "leader\n"
    async with Agent(shared_config(tmp_path, postgres_url)) as agent:
        bot = TestBot(agent)
        assert not agent.leadership.held  # the other process runs the schedule
        first = await schedule(bot, "Pizza on Friday!")
        make_due(agent, first)
        await eventually(lambda: Announcer(agent).get(first) is None, "the leader to post the announcement")
        assert [(p["channel"], p["kind"], p["text"]) for p in lines(posts)] == [
            (CHANNEL.id, "VideoReply", "Pizza on Friday!")]
        assert bot.posts(CHANNEL.id) == []  # this process, a follower, posted nothing

        second = await schedule(bot, "Quiz night!")
        process.send_signal(signal.SIGKILL)  # the leader dies without a word
        await asyncio.to_thread(process.wait)
        await eventually(lambda: runs_schedule(agent), "this process to take over the schedule")
        make_due(agent, second)
        posted = await eventually(lambda: bot.videos(bot.posts(CHANNEL.id)), "the new leader to post")
        assert [v.caption for v in posted] == ["Quiz night!"]
        assert len(lines(posts)) == 1 and Announcer(agent).get(second) is None


async def test_postgres_a_leader_that_stops_hands_the_schedule_over(tmp_path: Path, postgres_url: str) -> None:
    first = Agent(shared_config(tmp_path / "first", postgres_url))
    second = Agent(shared_config(tmp_path / "second", postgres_url))
    await first.start()
    await second.start()
    assert first.leadership.held and not second.leadership.held
    await first.stop()
    try:
        await eventually(lambda: runs_schedule(second), "the second process to take over")
    finally:
        await second.stop()


def at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(0..count-1)`` on as many threads, released together."""
    gate = threading.Barrier(count)

    def run(n: int) -> Any:
        gate.wait()
        return work(n)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


@pytest.fixture
def two_processes(postgres_url: str) -> Iterator[tuple[Storage, Storage]]:
    """Two processes' views of one database: separate engines, so separate connections."""
    first, second = Storage(postgres_url), Storage(postgres_url)
    yield first, second
    first.close()
    second.close()


def vote(user: str, option: str) -> VoteEvent:
    return VoteEvent("test", User(id=user, name=user), CHANNEL, poll_id="poll-1", option=option)


def test_postgres_concurrent_votes_are_counted_once(two_processes: tuple[Storage, Storage]) -> None:
    polls = [Polls(storage) for storage in two_processes]
    changed = at_once(16, lambda n: polls[n % 2].record(vote("ada", "a")))  # one vote seen 16 times at once
    assert changed.count(True) == 1
    at_once(16, lambda n: polls[n % 2].record(vote(f"member{n // 2}", "b")))  # 8 members, each seen twice
    assert polls[0].tally("test", "poll-1") == {"a": 1, "b": 8}


def test_postgres_concurrent_memory_writes_are_all_kept(two_processes: tuple[Storage, Storage]) -> None:
    stores = [MemoryStore(storage, max_turns=100, max_facts=50, max_summary_chars=500) for storage in two_processes]
    key = MemoryKey("friendly", "test", "s1", "u1")
    at_once(12, lambda n: stores[n % 2].record(key, user_name="Ada", user_text=f"message {n}",
                                               reply_text=f"reply {n}", facts=[f"likes thing {n}"]))
    memory = stores[0].recall(key)
    assert memory is not None
    said = sorted(t["text"] for t in memory.turns if t["role"] == "user")
    assert said == sorted(f"message {n}" for n in range(12))  # no update lost another's
    assert len(memory.facts) == 12 and memory.version == 11


def test_postgres_concurrent_entries_and_contests_are_stored_once(two_processes: tuple[Storage, Storage]) -> None:
    def contest(n: int) -> Contest:
        return Contest(platform="test", server_id="s1", channel_id="c1", theme=f"theme {n}", personas_csv="friendly",
                       ends_at=datetime(2099, 1, 1, tzinfo=UTC), started_by="a1")

    started = at_once(8, lambda n: models.start(two_processes[n % 2], contest(n)))
    assert started.count(True) == 1
    running = models.open_in(two_processes[0], "test", "s1")
    assert running is not None and running.id is not None
    video = [EntryVideo("friendly", "ada.mp4", 1.0)]
    at_once(8, lambda n: models.save_entry(two_processes[n % 2], running.id or 0, User(id="u1", name="Ada"), video))
    [entry] = models.entries(two_processes[1], running.id)
    assert entry.revision == 8  # one entry, replaced by each later save
