"""Rate limits per member and per server, the cap on a member's running commands, and who
is exempt; the limits' clock is driven by the test."""

from __future__ import annotations

import asyncio

import pytest

from core.agent import Agent
from core.commands import Command
from core.config import Config, LimitSettings
from core.events import Channel, MessageEvent, ParsedCommand, User
from core.limits import LimitExceeded, Limits
from core.plugins import hookimpl
from core.testing.testbot import ADMIN, CHANNEL, MEMBER, TestBot

BOB, CY, DEE = User(id="u2", name="Bob"), User(id="u3", name="Cy"), User(id="u4", name="Dee")
ELSEWHERE = Channel(id="c9", server_id="s9", name="general", server_name="Another Server")


class WorkPlugin:
    """``!work`` runs until the test releases it; ``!quick`` answers at once."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.finished = 0

    @hookimpl
    def register_commands(self, register) -> None:  # type: ignore[no-untyped-def]
        async def work(ctx, command) -> None:  # type: ignore[no-untyped-def]
            self.started.set()
            await self.release.wait()
            self.finished += 1

        async def quick(ctx, command) -> None:  # type: ignore[no-untyped-def]
            await ctx.reply("done")

        async def fail(ctx, command) -> None:  # type: ignore[no-untyped-def]
            raise RuntimeError("broken on purpose")

        register(Command("work", "slow work", work, plugin="test"))
        register(Command("fail", "always fails", fail, plugin="test"))
        register(Command("quick", "quick work", quick, plugin="test"))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def limited(bot_config: Config):  # type: ignore[no-untyped-def]
    bot_config.limits = LimitSettings(user_per_minute=2, server_per_minute=3, user_concurrent_jobs=1,
                                      rated_commands=["work", "quick go", "fail"])
    plugin = WorkPlugin()
    async with Agent(bot_config, extra_plugins=[plugin]) as agent:
        clock = Clock()
        agent.limits.clock = clock
        yield TestBot(agent), clock, plugin


async def test_a_member_is_told_how_long_to_wait(limited) -> None:  # type: ignore[no-untyped-def]
    bot, clock, _ = limited
    assert bot.texts(await bot.send("!quick go")) == ["done"]
    clock.now += 20
    assert bot.texts(await bot.send("!quick go")) == ["done"]
    assert bot.texts(await bot.send("!quick go")) == ["Slow down a little: try again in 40 s."]
    clock.now += 39.5
    assert bot.texts(await bot.send("!quick go")) == ["Slow down a little: try again in 1 s."]
    clock.now += 0.5  # a minute after the first: its place is free again (refusals took none)
    assert bot.texts(await bot.send("!quick go")) == ["done"]
    assert bot.texts(await bot.send("!quick go", user=BOB)) == ["done"]  # others are not held up


async def test_commands_that_are_not_rated_and_admins_are_never_limited(limited) -> None:  # type: ignore[no-untyped-def]
    bot, _, _ = limited
    for _ in range(5):
        assert bot.texts(await bot.send("!quick")) == ["done"]
        assert bot.texts(await bot.send("!quick go", user=ADMIN)) == ["done"]
    assert "Commands:" in bot.texts(await bot.send("!help"))[0]


async def test_a_busy_server_is_limited_as_a_whole(limited) -> None:  # type: ignore[no-untyped-def]
    bot, clock, _ = limited
    for user in (MEMBER, BOB, CY):
        assert bot.texts(await bot.send("!quick go", user=user)) == ["done"]
        clock.now += 10
    assert bot.texts(await bot.send("!quick go", user=DEE)) == [
        "This server is asking for a lot of videos right now: try again in 30 s."]
    assert bot.texts(await bot.send("!quick go", user=DEE, channel=ELSEWHERE)) == ["done"]


async def test_one_running_command_per_member(limited) -> None:  # type: ignore[no-untyped-def]
    bot, _, plugin = limited
    first = asyncio.create_task(bot.send("!work"))
    await plugin.started.wait()
    assert bot.texts(await bot.send("!work")) == [
        "You already have a video rendering; wait for it to finish, then try again."]
    assert bot.texts(await bot.send("!quick go")) == [
        "You already have a video rendering; wait for it to finish, then try again."]
    plugin.release.set()
    await first
    assert plugin.finished == 1
    assert bot.texts(await bot.send("!quick go")) == ["done"]  # the place was given back


async def test_a_failing_command_gives_its_place_back(limited) -> None:  # type: ignore[no-untyped-def]
    bot, _, _ = limited
    assert "something went wrong" in bot.texts(await bot.send("!fail"))[0]
    assert bot.agent.limits.running == {}
    assert bot.texts(await bot.send("!quick go")) == ["done"]


@pytest.mark.parametrize(("line", "rated"), [
    ("avatar", True), ("say hi there", True), ("contest enter", True), ("contest ENTER", True),
    ("contest standings", False), ("contest start Laughs", False), ("help", False), ("personas", False),
])
def test_the_default_rated_commands_are_those_that_render(line: str, rated: bool) -> None:
    name, *args = line.split()
    assert Limits(LimitSettings()).applies_to(ParsedCommand(name, args)) is rated


def test_the_clock_drives_the_window() -> None:
    clock = Clock()
    limits = Limits(LimitSettings(user_per_minute=1, server_per_minute=0, user_concurrent_jobs=0), clock=clock)
    with limits.admit(_event(MEMBER), ParsedCommand("say", ["hi"])):
        pass
    with (pytest.raises(LimitExceeded, match="try again in 60 s"),
          limits.admit(_event(MEMBER), ParsedCommand("say", ["hi"]))):
        pass
    clock.now += 60
    with limits.admit(_event(MEMBER), ParsedCommand("say", ["hi"])):
        pass


def _event(user: User) -> MessageEvent:
    return MessageEvent("test", user, CHANNEL, text="!say hi")
