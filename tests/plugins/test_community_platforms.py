"""The community features through each platform's fake (``platform_driver``): announcements
now and scheduled, welcome clips, opt-outs and raids, voice contests voted on with the
platform's own controls, and rate limits. Time is driven: the plugins' clocks are replaced
and the scheduler is advanced, never waited for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.config import Config, LimitSettings
from core.events import User
from core.testing.fakes.slack import running_driver as slack_running_driver
from core.testing.fakes.slack_server import FakeSlack
from core.testing.fakes.telegram import FakeTelegramAPI, running_telegram
from core.testing.platforms import Delivered, PlatformDriver
from core.testing.testbot import ADMIN, MEMBER, FakeClock, advance, test_config
from plugins import announce, welcome
from tests.drive import add_channel, checked_video, delivered_during, texts, videos
from tests.media import speech_clip

SIZE, FPS = 128, 10
#: Well after the real clock, so the running scheduler never fires a job on its own.
NOW = datetime(2031, 3, 3, 12, 0, tzinfo=UTC)
RAID_LIMIT = 2
BOB = User(id="u2", name="Bob")
CY = User(id="u3", name="Cy")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The announce and welcome plugins' clock."""
    fake = FakeClock(NOW)
    monkeypatch.setattr(announce, "clock", fake)
    monkeypatch.setattr(welcome, "clock", fake)
    return fake


@pytest.fixture
def bot_config(tmp_path: Path) -> Config:
    config = test_config(tmp_path)
    config.engine.width = config.engine.height = SIZE
    config.engine.fps = FPS
    config.welcome.raid_joins_per_minute = RAID_LIMIT
    return config


# -- announcements ----------------------------------------------------------------------------


async def test_announcements_now_and_on_schedule(platform_driver: PlatformDriver, clock: FakeClock,
                                                 tmp_path: Path) -> None:
    driver = platform_driver
    news = add_channel(driver, "news")
    [answer] = await driver.send(f"!server announce-channel {news}", user=ADMIN)
    assert answer.text == f"Announcements now go to channel {news}."

    delivered = await driver.send('!announce "Free pizza on Friday"', user=ADMIN)
    [post] = videos(delivered)
    assert (post.channel_id, post.text) == (news, "Free pizza on Friday")
    checked_video(post, tmp_path, size=SIZE, fps=FPS)
    assert "Announced in channel" in texts(delivered)[-1]

    refused = await driver.send("!announce Members may not", user=MEMBER)
    assert [d.text for d in refused] == ["Only admins can use !announce."]

    delivered = await driver.send("!announce at 2031-03-04T09:00 Standup in five minutes", user=ADMIN)
    assert videos(delivered) == []
    assert texts(delivered)[-1].startswith("Scheduled announcement #1 for Tue 4 Mar 2031, 09:00 (UTC)")
    due = datetime(2031, 3, 4, 9, 0, tzinfo=UTC)
    assert await delivered_during(driver, advance(driver.agent, due - timedelta(minutes=1))) == []
    [scheduled] = await delivered_during(driver, advance(driver.agent, due))
    assert (scheduled.channel_id, scheduled.text, scheduled.kind) == (news, "Standup in five minutes", post.kind)
    checked_video(scheduled, tmp_path, size=SIZE, fps=FPS)
    assert driver.agent.scheduler.get_job(announce.job_id(1)) is None


# -- welcome clips ----------------------------------------------------------------------------


async def test_welcome_clips_opt_outs_and_a_raid(platform_driver: PlatformDriver, clock: FakeClock,
                                                 tmp_path: Path) -> None:
    driver = platform_driver
    lobby = add_channel(driver, "lobby")
    [answer] = await driver.send(f"!welcome channel {lobby}", user=ADMIN)
    assert answer.text == f"Welcome clips now go to channel {lobby}."

    [greeting] = await driver.join(MEMBER)
    assert greeting.channel_id == lobby and greeting.text.startswith("Welcome to ") and greeting.text.endswith(", Ada!")
    checked_video(greeting, tmp_path, size=SIZE, fps=FPS)
    [opted] = await driver.send("!welcome optout", user=MEMBER)
    assert opted.text.startswith("You won't get a welcome clip in this server.")
    clock.now += timedelta(minutes=2)
    assert await driver.join(MEMBER) == []  # leaving and coming back: still opted out
    await driver.send("!welcome optin", user=MEMBER)
    clock.now += timedelta(minutes=2)
    assert [post.text for post in await driver.join(MEMBER)] == [greeting.text]

    clock.now += timedelta(minutes=2)
    greeted = [await driver.join(User(id=f"m{n}", name=f"Member {n}")) for n in range(RAID_LIMIT + 3)]
    captions = [post.text for posts in greeted for post in posts]
    assert captions[:RAID_LIMIT] == [greeting.text.replace("Ada", f"Member {n}") for n in range(RAID_LIMIT)]
    assert captions[RAID_LIMIT:] == [greeting.text.replace("Ada!", "everyone who just joined!")]
    assert all(post.channel_id == lobby and post.kind == greeting.kind for posts in greeted for post in posts)


# -- voice contests -----------------------------------------------------------------------------


def entry_poll(delivered: list[Delivered]) -> Delivered:
    [poll] = [d for d in delivered if d.options]
    return poll


async def vote(driver: PlatformDriver, poll: Delivered, user: User) -> str:
    """``user`` votes for the entry ``poll`` with the platform's own control; the bot's answer."""
    return " ".join(texts(await driver.vote(poll, 0, user=user)))


async def test_a_voice_contest_from_start_to_winner(platform_driver: PlatformDriver, tmp_path: Path) -> None:
    driver = platform_driver
    refused = await driver.send('!contest start "Not mine to start" --ends 2h', user=MEMBER)
    assert [d.text for d in refused] == ["Only admins can start a contest."]
    [opened] = await driver.send('!contest start "Best evil laugh" --ends 2h --personas friendly,neon', user=ADMIN)
    assert "«Best evil laugh»" in opened.text and "performed by Pip and Neon" in opened.text

    entries: dict[str, Delivered] = {}
    takes: dict[str, list[bytes]] = {}
    for user, line in ((MEMBER, "Ha ha ha!"), (BOB, "Muah ha ha.")):
        clip = speech_clip(tmp_path / f"{user.id}.wav", line)
        delivered = await driver.send("!contest enter", user=user, files=[clip])
        poll = entry_poll(delivered)  # on Slack the vote reactions go on a message after the video
        assert poll.text.startswith(f"Entry by {user.name} for «Best evil laugh», performed by Pip and Neon")
        pip, neon = videos(delivered)
        assert pip.text.startswith(f"Entry by {user.name} for")
        assert neon.text == f"Entry by {user.name}, performed by Neon"
        takes[user.id] = [checked_video(take, tmp_path, size=SIZE, fps=FPS) for take in (pip, neon)]
        assert takes[user.id][0] != takes[user.id][1]  # each persona performs it
        assert texts(delivered)[-1] == "Your entry for «Best evil laugh» is in. Good luck!"
        entries[user.id] = poll

    ada, bob = entries[MEMBER.id], entries[BOB.id]
    assert "can't vote for your own entry" in await vote(driver, bob, BOB)
    assert "goes to Ada" in await vote(driver, ada, BOB)
    assert "goes to Bob" in await vote(driver, bob, CY)
    assert "goes to Ada" in await vote(driver, ada, CY)  # Cy's one vote moves to Ada
    assert "goes to Bob" in await vote(driver, bob, MEMBER)
    [standings] = await driver.send("!contest standings", user=CY)
    assert standings.text.endswith("1. Ada — 2 votes\n2. Bob — 1 vote"), standings.text

    ends = driver.agent.scheduler.get_job("contest-close-1").next_run_time
    result = await delivered_during(driver, advance(driver.agent, ends))
    [headline] = texts(result)
    assert "The winner is Ada with 2 votes" in headline and "1. Ada — 2 votes\n2. Bob — 1 vote" in headline
    [winner] = videos(result)
    assert winner.text == "Winning entry by Ada"
    assert checked_video(winner, tmp_path, size=SIZE, fps=FPS) == takes[MEMBER.id][0]
    assert "has closed" in await vote(driver, bob, ADMIN)


# -- rate limits --------------------------------------------------------------------------------


class Seconds:
    """The rate limits' clock (monotonic seconds), moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_rate_limits_answer_how_long_to_wait(platform_driver: PlatformDriver, bot_config: Config) -> None:
    driver = platform_driver
    bot_config.limits = LimitSettings(user_per_minute=1, server_per_minute=2, user_concurrent_jobs=1,
                                       rated_commands=["say"])
    driver.agent.limits = type(driver.agent.limits)(bot_config.limits, clock=(seconds := Seconds()))

    assert len(videos(await driver.send("!say One", user=MEMBER))) == 1
    assert texts(await driver.send("!say Two", user=MEMBER)) == ["Slow down a little: try again in 60 s."]
    seconds.now += 45
    assert texts(await driver.send("!say Two", user=MEMBER)) == ["Slow down a little: try again in 15 s."]
    assert len(videos(await driver.send("!say Three", user=BOB))) == 1
    assert texts(await driver.send("!say Four", user=CY)) == [
        "This server is asking for a lot of videos right now: try again in 15 s."]
    assert len(videos(await driver.send("!say Five", user=ADMIN))) == 1  # admins are exempt
    seconds.now += 16
    assert len(videos(await driver.send("!say Two", user=MEMBER))) == 1


# -- restarts -------------------------------------------------------------------------------------


@asynccontextmanager
async def running_on(fake: FakeTelegramAPI | FakeSlack, config: Config) -> AsyncIterator[Any]:
    """A new agent and adapter on ``fake``, which outlives them as the platform would."""
    if isinstance(fake, FakeTelegramAPI):
        async with running_telegram(fake, config) as telegram_driver:
            yield telegram_driver
    else:
        async for slack_driver in slack_running_driver(fake, config):
            yield slack_driver


# Telegram and Slack only: dpytest's Discord ends with the client that configured it.
async def test_a_restart_on_telegram_keeps_votes_and_jobs(telegram_api: FakeTelegramAPI, bot_config: Config,
                                                          clock: FakeClock, tmp_path: Path) -> None:
    await restart_keeps_contest_votes_and_scheduled_announcements(telegram_api, bot_config, tmp_path)


async def test_a_restart_on_slack_keeps_votes_and_jobs(slack_api: FakeSlack, bot_config: Config,
                                                       clock: FakeClock, tmp_path: Path) -> None:
    await restart_keeps_contest_votes_and_scheduled_announcements(slack_api, bot_config, tmp_path)


async def restart_keeps_contest_votes_and_scheduled_announcements(fake: FakeTelegramAPI | FakeSlack, config: Config,
                                                                  tmp_path: Path) -> None:
    """A contest and a scheduled announcement, the agent closed, a new one opened on the same
    database: votes cast on the old posts still count, and both jobs fire."""
    async with running_on(fake, config) as driver:
        await driver.send("!announce at 2031-03-04T09:00 Said after the restart", user=ADMIN)
        await driver.send('!contest start "Restartable" --ends 2h', user=ADMIN)
        ada = entry_poll(await driver.send("!contest enter", user=MEMBER,
                                           files=[speech_clip(tmp_path / "ada.wav", "Ha ha!")]))
        bob = entry_poll(await driver.send("!contest enter", user=BOB,
                                           files=[speech_clip(tmp_path / "bob.wav", "Ho ho!")]))
        assert "goes to Ada" in await vote(driver, ada, CY)
    renders = len(driver.agent.storage.recent_renders(limit=100))

    async with running_on(fake, config) as driver:
        jobs = {job.id for job in driver.agent.scheduler.get_jobs()}
        assert jobs == {"announce-1", "contest-close-1"}
        assert "goes to Ada" in await vote(driver, ada, BOB)  # on a post made before the restart
        assert "can't vote for your own entry" in await vote(driver, ada, MEMBER)
        assert "goes to Bob" in await vote(driver, bob, MEMBER)
        ends = driver.agent.scheduler.get_job("contest-close-1").next_run_time  # real time: the contest's clock
        result = await delivered_during(driver, advance(driver.agent, ends))
        assert texts(result)[0].endswith("The winner is Ada with 2 votes.\n1. Ada — 2 votes\n2. Bob — 1 vote")
        assert [v.text for v in videos(result)] == ["Winning entry by Ada"]
        [announced] = await delivered_during(driver, advance(driver.agent, datetime(2031, 3, 4, 9, 0, tzinfo=UTC)))
        assert announced.text == "Said after the restart" and announced.files
        assert len(driver.agent.storage.recent_renders(limit=100)) == renders  # nothing rendered again
