"""Per-server settings changed by command, per-server plugin switches, and the one admin check."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from rich.console import Console

from adapters.console import ConsoleAdapter
from core.agent import Agent
from core.config import Config, ConfigError, ServerSettings, load_config
from core.events import Channel, MessageEvent, User
from core.plugins import hookimpl
from core.servers import ServerOverride
from core.testing.testbot import ADMIN, CHANNEL, MEMBER, TestBot

OTHER = Channel(id="c2", server_id="s2", server_name="Other")


class Recorder:
    """Sees every event hook, so a test can tell which ones were skipped."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    @hookimpl
    def on_message(self, event, ctx) -> None:  # type: ignore[no-untyped-def]
        self.seen.append(f"message {event.channel.server_id}")

    @hookimpl
    def on_member_join(self, event, ctx) -> None:  # type: ignore[no-untyped-def]
        self.seen.append(f"join {event.channel.server_id}")

    @hookimpl
    def on_vote(self, event, ctx) -> None:  # type: ignore[no-untyped-def]
        self.seen.append(f"vote {event.channel.server_id}")


async def test_changes_apply_to_one_server_and_survive_a_restart(bot_config: Config) -> None:
    bot_config.servers = {"test:s1": ServerSettings(announce_channel="news")}
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        assert bot.texts(await bot.send("!server persona anime", user=ADMIN)) == ["Sakura now speaks for this server."]
        assert bot.texts(await bot.send("!server timezone Asia/Tokyo", user=ADMIN)) == [
            "This server's time zone is now Asia/Tokyo. New scheduled announcements use it."]
        assert bot.texts(await bot.send("!server welcome-channel here", user=ADMIN)) == [
            "Welcome clips now go to this channel."]
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        event = MessageEvent("test", MEMBER, CHANNEL)
        settings = agent.server_settings(event)
        assert (settings.persona, settings.timezone, settings.welcome_channel, settings.announce_channel) == (
            "sakura", "Asia/Tokyo", CHANNEL.id, "news")
        assert agent.server_settings(MessageEvent("test", MEMBER, OTHER)) == ServerSettings()
        [shown] = bot.texts(await bot.send("!server show", user=ADMIN))
        assert "  persona: sakura *" in shown and "  announcement channel: news\n" in shown
        assert bot.texts(await bot.send("!server reset persona", user=ADMIN)) == [
            "persona is back to the config's value."]
        assert bot.texts(await bot.send("!server announce-channel none", user=ADMIN)) == [
            "Announcements now go to channel news (from the config)."]
        assert agent.server_settings(event).persona == ""


async def test_a_channel_setting_must_be_a_channel_of_this_server_the_bot_may_post_in(testbot: TestBot) -> None:
    testbot.adapter.channel_servers["far"] = "s2"
    testbot.adapter.unavailable.add("muted")
    assert testbot.texts(await testbot.send("!server announce-channel far", user=ADMIN)) == [
        "Announcements can't go to channel far: channel far is in another server."]
    assert testbot.texts(await testbot.send("!server welcome-channel muted", user=ADMIN)) == [
        "Welcome clips can't go to channel muted: no permission to post in muted."]
    settings = testbot.agent.server_settings(MessageEvent("test", ADMIN, CHANNEL))
    assert (settings.announce_channel, settings.welcome_channel) == ("", "")
    assert testbot.texts(await testbot.send("!server announce-channel news", user=ADMIN)) == [
        "Announcements now go to channel news."]


@pytest.mark.parametrize(("line", "answer"), [
    ("!server timezone Mars/Olympus", "I can't set timezone: unknown time zone 'Mars/Olympus'; "
                                      "use an IANA name such as 'Europe/Berlin'."),
    ("!server persona nobody", "There is no persona or style called 'nobody'."),
    ("!server disable nothing", "There is no plugin 'nothing'. Plugins: "),
    ("!server disable server", "The server plugin can't be switched off"),
    ("!server reset colour", "There is no setting 'colour'."),
    ("!server timezone", "Use it as: !server timezone ZONE"),
    ("!server frobnicate", "!server has no 'frobnicate'."),
])
async def test_bad_settings_are_refused_with_a_reason(testbot: TestBot, line: str, answer: str) -> None:
    [reply] = testbot.texts(await testbot.send(line, user=ADMIN))
    assert reply.startswith(answer), reply
    assert testbot.agent.servers.overridden("test", "s1") == set()


async def test_members_cannot_change_settings(testbot: TestBot) -> None:
    for line in ("!server show", "!server persona neon", "!server disable avatar"):
        assert testbot.texts(await testbot.send(line)) == ["Only admins can use !server."]
    assert testbot.agent.servers.overridden("test", "s1") == set()


async def test_a_plugin_switched_off_in_one_server(testbot: TestBot) -> None:
    recorder = Recorder()
    testbot.agent.pm.register(recorder, name="recorder")
    assert testbot.texts(await testbot.send("!server disable avatar", user=ADMIN)) == [
        "The avatar plugin is switched off in this server."]
    assert testbot.texts(await testbot.send("!server disable recorder", user=ADMIN)) == [
        "The recorder plugin is switched off in this server."]
    assert testbot.texts(await testbot.send("!say hi")) == [
        "The avatar plugin is switched off in this server. An admin can switch it on with !server enable avatar."]
    await testbot.send("hello")
    await testbot.join(MEMBER)
    assert testbot.texts(await testbot.vote("poll-1", "a")) == []
    assert recorder.seen == []
    assert testbot.agent.polls.tally("test", "poll-1") == {"a": 1}  # the vote still counts

    assert len(testbot.videos(await testbot.send("!say hi", channel=OTHER))) == 1
    await testbot.send("hello", channel=OTHER)
    await testbot.join(MEMBER, channel=OTHER)
    await testbot.vote("poll-2", "b", channel=OTHER)
    assert recorder.seen == ["message s2", "join s2", "vote s2"]

    assert testbot.texts(await testbot.send("!server enable recorder", user=ADMIN)) == [
        "The recorder plugin is switched on in this server."]
    await testbot.send("hello")
    assert recorder.seen[-1] == "message s1"


async def test_help_lists_only_the_commands_switched_on_in_the_server(testbot: TestBot) -> None:
    await testbot.send("!server disable contest", user=ADMIN)
    await testbot.send("!server disable announce", user=ADMIN)
    for user in (MEMBER, ADMIN):
        [shown] = testbot.texts(await testbot.send("!help", user=user))
        assert "!contest" not in shown and "!announce" not in shown
        assert "!say" in shown and "!help" in shown
    [elsewhere] = testbot.texts(await testbot.send("!help", user=ADMIN, channel=OTHER))
    assert "!contest" in elsewhere and "!announce" in elsewhere
    await testbot.send("!server enable contest", user=ADMIN)
    assert "!contest" in testbot.texts(await testbot.send("!help"))[0]


async def test_one_admin_check_everywhere(bot_config: Config) -> None:
    bot_config.agent.admins = ["test:g1"]
    bot_config.servers = {"test:s1": ServerSettings(admins=["u1"])}
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        everywhere = User(id="g1", name="Global")
        for user, channel, allowed in [(MEMBER, CHANNEL, True), (MEMBER, OTHER, False), (everywhere, OTHER, True),
                                       (ADMIN, OTHER, True), (User(id="u9", name="Nobody"), CHANNEL, False)]:
            assert agent.is_admin(MessageEvent("test", user, channel)) is allowed
            replies = bot.texts(await bot.send("!server show", user=user, channel=channel))
            assert (replies != ["Only admins can use !server."]) is allowed
        help_text = bot.texts(await bot.send("!help", user=MEMBER))[0]
        assert "!announce" in help_text and "!server" in help_text
        assert "!announce" not in bot.texts(await bot.send("!help", user=MEMBER, channel=OTHER))[0]


async def test_server_admins_cannot_be_set_by_command(testbot: TestBot) -> None:
    with pytest.raises(ValueError, match="admins can't be changed by command"):
        testbot.agent.servers.change("test", "s1", "admins", ["u1"])


async def test_a_stored_setting_that_became_invalid_is_ignored(
        testbot: TestBot, caplog: pytest.LogCaptureFixture) -> None:
    testbot.agent.storage.add(ServerOverride(platform="test", server_id="s1", key="timezone", value_json='"Gone/Zone"'))
    with caplog.at_level(logging.WARNING, logger="core.servers"):
        assert testbot.agent.server_settings(MessageEvent("test", MEMBER, CHANNEL)).timezone == "UTC"
    assert "ignoring the stored timezone of test:s1" in caplog.text


def test_welcome_templates_in_the_config_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[servers."discord:1"]\nwelcome_template = "Hi {name.__class__}"\n')
    with pytest.raises(ConfigError, match="may only use"):
        load_config(path)
    path.write_text('[welcome]\ngroup_template = "Hi {name}"\n')
    with pytest.raises(ConfigError, match=r"welcome\.group_template"):
        load_config(path)


async def test_on_the_console(bot_config: Config) -> None:
    output = io.StringIO()
    async with Agent(bot_config) as agent:
        console = ConsoleAdapter(agent, stdin=io.StringIO(), console=Console(file=output, width=200))
        await console.handle_line("!server timezone Europe/Paris")
        await console.handle_line("!server show")
    assert "  time zone: Europe/Paris *" in output.getvalue()
