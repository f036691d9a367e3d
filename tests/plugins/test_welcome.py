"""Welcome clips: greetings by name, safe names, raids, opting out, channels, the console."""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from adapters.console import LOCAL_USER, ConsoleAdapter
from core.agent import Agent
from core.config import Config, ServerSettings, WelcomeSettings
from core.events import Channel, MemberJoinEvent, MessageEvent, User
from core.replies import VideoReply
from core.testing.testbot import ADMIN, CHANNEL, MEMBER, FakeClock, TestBot, test_config
from plugins import welcome
from tests.media import assert_valid_mp4

NOW = datetime(2031, 3, 3, 12, 0, tzinfo=UTC)
SIZE, FPS = 160, 10
RAID_LIMIT = 3


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(NOW)
    monkeypatch.setattr(welcome, "clock", fake)
    return fake


@pytest.fixture
def bot_config(tmp_path: Path) -> Config:
    config = test_config(tmp_path)
    config.engine.width = config.engine.height = SIZE
    config.engine.fps = FPS
    config.welcome.raid_joins_per_minute = RAID_LIMIT
    config.servers = {"test:s1": ServerSettings(welcome_channel="lobby")}
    return config


def captions(replies: list) -> list[str]:  # type: ignore[type-arg]
    return [r.caption for r in replies if isinstance(r, VideoReply)]


def member(n: int, name: str | None = None) -> User:
    return User(id=f"m{n}", name=name or f"Member {n}")


async def test_a_new_member_is_greeted_by_name_in_the_welcome_channel(testbot: TestBot, clock: FakeClock) -> None:
    assert await testbot.join(MEMBER) == []  # nothing goes back to where the join came from
    [video] = [r for r in testbot.posts("lobby") if isinstance(r, VideoReply)]
    assert video.caption == "Welcome to Test Server, Ada!"
    assert_valid_mp4(video.path, width=SIZE, height=SIZE, fps=FPS, duration=video.duration)
    assert testbot.agent.storage.recent_renders()[0].persona == "friendly"


async def test_without_a_welcome_channel_the_clip_goes_where_the_join_was_reported(
        testbot: TestBot, clock: FakeClock) -> None:
    await testbot.join(member(1, "Lin"), channel=Channel(id="c5", server_id="s5", server_name="Cafe ☕"))
    assert captions(testbot.posts("c5")) == ["Welcome to Cafe, Lin!"]


@pytest.mark.parametrize(("name", "spoken"), [
    ("{server} {name}", "server name"),
    ("@everyone", "everyone"),
    ("<@123456> **bold** `code`", "123456 bold code"),
    ("🎉🎉🎉", "new friend"),
    ("★彡", "彡"),
    ("x" * 500, "x" * 32),
    ("Dr. Who {0.__class__}", "Dr Who 0 class"),
])
def test_names_are_spoken_sensibly_and_never_inject_anything(name: str, spoken: str) -> None:
    settings = ServerSettings(welcome_template="Hi {name}, this is {server}.")
    event = MemberJoinEvent("test", User(id="x", name=name), CHANNEL)
    assert welcome.greeting(settings, WelcomeSettings(), event) == f"Hi {spoken}, this is Test Server."


async def test_a_hostile_name_end_to_end(testbot: TestBot, clock: FakeClock) -> None:
    await testbot.join(member(1, "@here {server}" + " spam" * 100))
    [caption] = captions(testbot.posts("lobby"))
    assert caption.startswith("Welcome to Test Server, here server spam spam")
    assert "@" not in caption and "{" not in caption and len(caption) <= len("Welcome to Test Server, !") + 32


async def test_a_raid_gets_one_group_greeting_and_other_users_are_served_first(
        testbot: TestBot, clock: FakeClock) -> None:
    joiners = [member(n) for n in range(10)]
    say = testbot.send("!say I am waiting", user=User(id="busy", name="Busy"))
    results = await asyncio.gather(*(testbot.join(user) for user in joiners), say)
    assert len(testbot.videos(results[-1])) == 1
    posted = captions(testbot.posts("lobby"))  # concurrent renders may finish in any order
    assert sorted(posted) == sorted([f"Welcome to Test Server, Member {n}!" for n in range(RAID_LIMIT)] + [
        "Welcome to Test Server, everyone who just joined!"])
    order = [r.user_id for r in reversed(testbot.agent.storage.recent_renders(limit=100))]
    # The command went ahead of the queued welcome clips: only those already rendering finished before it.
    assert order.index("busy") <= testbot.agent.config.engine.workers, order

    clock.now += timedelta(seconds=30)  # the raid goes on: no more clips
    await testbot.join(member(20))
    assert len(captions(testbot.posts("lobby"))) == RAID_LIMIT + 1
    clock.now += timedelta(minutes=2)  # a quiet minute ends it
    await testbot.join(member(21, "Zed"))
    assert captions(testbot.posts("lobby"))[-1] == "Welcome to Test Server, Zed!"


async def test_joins_spread_over_time_are_not_a_raid(testbot: TestBot, clock: FakeClock) -> None:
    for n in range(RAID_LIMIT * 2):
        await testbot.join(member(n, "Same"))
        clock.now += timedelta(seconds=25)
    assert captions(testbot.posts("lobby")) == ["Welcome to Test Server, Same!"] * (RAID_LIMIT * 2)
    assert len(testbot.agent.storage.recent_renders(limit=100)) == RAID_LIMIT * 2


async def test_members_can_opt_out_and_it_survives_a_restart(bot_config: Config, clock: FakeClock) -> None:
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        [answer] = bot.texts(await bot.send("!welcome optout"))
        assert answer == "You won't get a welcome clip in this server. !welcome optin undoes it."
        await bot.join(MEMBER)
        assert bot.posts("lobby") == []
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        await bot.join(MEMBER)  # rejoining after a restart
        assert bot.posts("lobby") == []
        await bot.join(MEMBER, channel=Channel(id="c3", server_id="s3", server_name="Elsewhere"))
        assert captions(bot.posts("c3")) == ["Welcome to Elsewhere, Ada!"]  # opting out is per server
        await bot.send("!welcome optin")
        await bot.join(MEMBER)
        assert captions(bot.posts("lobby")) == ["Welcome to Test Server, Ada!"]


async def test_no_clip_for_a_channel_the_bot_cannot_post_in(
        testbot: TestBot, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    testbot.adapter.unavailable.add("lobby")
    with caplog.at_level(logging.WARNING, logger="plugins.welcome"):
        await testbot.join(member(1))
        await testbot.join(member(2))
    assert testbot.posts("lobby") == [] and testbot.agent.storage.recent_renders() == []
    assert [r.message for r in caplog.records].count(
        "no welcome clips in test channel lobby: no permission to post in lobby") == 1


async def test_no_clip_and_no_setting_for_a_channel_of_another_server(testbot: TestBot, clock: FakeClock) -> None:
    testbot.adapter.channel_servers["far"] = "s2"
    [refused] = testbot.texts(await testbot.send("!welcome channel far", user=ADMIN))
    assert refused == "Welcome clips can't go to channel far: channel far is in another server."
    assert testbot.agent.server_settings(MessageEvent("test", ADMIN, CHANNEL)).welcome_channel == "lobby"
    testbot.agent.servers.change("test", CHANNEL.server_id, "welcome_channel", "far", by="config")
    await testbot.join(MEMBER)
    assert testbot.posts("far") == [] and testbot.agent.storage.recent_renders() == []


async def test_admins_set_the_template_persona_and_channel(testbot: TestBot, clock: FakeClock) -> None:
    assert testbot.texts(await testbot.send('!welcome template "Hey {name}, enjoy {server}!"', user=ADMIN)) == [
        "New members are now greeted with: Hey {name}, enjoy {server}!"]
    [refused] = testbot.texts(await testbot.send('!welcome template "Hi {user.token}"', user=ADMIN))
    assert refused == "I can't set welcome template: the template may only use {server}, {name}, not {user.token}."
    assert testbot.texts(await testbot.send("!welcome persona neon", user=ADMIN))[0].endswith("now greets new members.")
    assert testbot.texts(await testbot.send("!welcome channel here", user=ADMIN)) == [
        "Welcome clips now go to this channel."]
    await testbot.join(MEMBER)
    assert captions(testbot.posts(CHANNEL.id)) == ["Hey Ada, enjoy Test Server!"]
    assert testbot.agent.storage.recent_renders()[0].persona == "neon"
    [test] = testbot.texts(await testbot.send("!welcome test", user=ADMIN))
    assert test == "Posted a test greeting in this channel."
    assert captions(testbot.posts(CHANNEL.id))[-1] == "Hey Grace, enjoy Test Server!"


async def test_members_cannot_change_the_welcome_settings(testbot: TestBot, clock: FakeClock) -> None:
    for line in ("!welcome template Hi", "!welcome persona neon", "!welcome channel here", "!welcome test"):
        assert testbot.texts(await testbot.send(line)) == [
            "Only admins can change the welcome clips; anyone can use !welcome optout and !welcome optin."]
    assert testbot.agent.servers.overridden("test", "s1") == set()
    await testbot.join(MEMBER)
    assert captions(testbot.posts("lobby")) == ["Welcome to Test Server, Ada!"]


async def test_switched_off_in_one_server_only(testbot: TestBot, clock: FakeClock) -> None:
    await testbot.send("!server disable welcome", user=ADMIN)
    await testbot.join(member(1))
    assert testbot.posts("lobby") == []
    await testbot.join(member(2, "Bo"), channel=Channel(id="c8", server_id="s8", server_name="Next door"))
    assert captions(testbot.posts("c8")) == ["Welcome to Next door, Bo!"]


async def test_on_the_console(bot_config: Config, clock: FakeClock) -> None:
    output = io.StringIO()
    async with Agent(bot_config) as agent:
        console = ConsoleAdapter(agent, stdin=io.StringIO(), console=Console(file=output, width=300))
        agent.attach(console)
        await console.handle_line("!welcome template Hello {name}, welcome to {server}")
        await console.handle_line("!welcome test")
        await console.handle_line("!welcome optout")
        await console.handle_line("!welcome test")
        await console.handle_line(":join Ada")
    printed = output.getvalue()
    # The console's server is named after the agent; the video is copied out of the cache under a
    # readable name, and the caption has a line of its own.
    kept = bot_config.engine.output_dir / f"hello-{LOCAL_USER.name.lower()}-welcome-to-mouthpiece.mp4"
    assert f"[#console] 🎬 {kept} (" in printed and kept.is_file()
    assert f"\n   Hello {LOCAL_USER.name}, welcome to Mouthpiece\n" in printed
    assert "Posted a test greeting in this channel." in printed
    assert "You won't get a welcome clip in this server." in printed
    # Opted out, the admin gets no test greeting either; a newcomer who hasn't is greeted.
    assert printed.count(f"Hello {LOCAL_USER.name}, welcome") == 1
    assert "You opted out of welcome clips in this server" in printed
    assert "Ada joins Mouthpiece." in printed and "\n   Hello Ada, welcome to Mouthpiece\n" in printed
