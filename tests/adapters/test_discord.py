"""The Discord adapter end to end: the real agent and discord.py, against dpytest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import discord
import discord.ext.test as dpytest
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from discord.ext.test import backend, factories

from core.adapter import ChannelUnavailable
from core.commands import Command
from core.config import Config
from core.context import Context
from core.events import MessageEvent, ParsedCommand, User, VoteEvent
from core.fetch import SafeFetcher
from core.plugins import hookimpl
from core.replies import PollReply, TextReply, VoteOption
from core.testing.fakes.discord import DiscordDriver
from core.testing.platforms import Delivered
from core.testing.testbot import ADMIN, MEMBER, test_config
from engine.encode import probe
from tests.media import assert_valid_mp4, speech_clip, wav_duration

SIZE = 128  # small videos keep these tests fast
OTHER = User(id="u2", name="Lin")


class Recorder:
    """A test plugin: remembers what reached the plugins, greets newcomers, runs a poll."""

    def __init__(self) -> None:
        self.messages: list[MessageEvent] = []
        self.votes: list[VoteEvent] = []

    @hookimpl
    def register_commands(self, register) -> None:  # type: ignore[no-untyped-def]
        register(Command("poll", "a poll", self.poll, plugin="recorder"))
        register(Command("whoami", "who you are here", self.whoami, plugin="recorder"))

    async def poll(self, ctx: Context, command: ParsedCommand) -> None:
        options = (VoteOption("sakura", "Sakura"), VoteOption("neon", "Neon"))
        await ctx.reply(PollReply("p1", "Who says it best?", options))

    async def whoami(self, ctx: Context, command: ParsedCommand) -> None:
        assert isinstance(ctx.event, MessageEvent)
        self.messages.append(ctx.event)
        await ctx.reply("admin" if ctx.is_admin else "member")

    @hookimpl
    def on_message(self, event: MessageEvent, ctx: Context) -> None:
        self.messages.append(event)

    @hookimpl
    def on_vote(self, event: VoteEvent, ctx: Context) -> None:
        self.votes.append(event)


@pytest.fixture
def bot_config(tmp_path: Path) -> Config:
    config = test_config(tmp_path)
    config.engine.width = config.engine.height = SIZE
    return config


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def discord_plugins(recorder: Recorder) -> list[object]:
    return [recorder]


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return speech_clip(tmp_path / "voice.wav", "Hello from Discord.")


def the_video(delivered: list[Delivered], tmp_path: Path) -> Path:
    [video] = [d for d in delivered if d.kind == "video"]
    [(name, data)] = video.files
    path = tmp_path / f"uploaded-{name}"
    path.write_bytes(data)
    return path


async def test_a_voice_clip_comes_back_as_an_mp4(discord_driver: DiscordDriver, clip: Path, tmp_path: Path) -> None:
    delivered = await discord_driver.send("!avatar --style anime", user=MEMBER, files=[clip])
    # The status message went out first, then made way for the video.
    assert dpytest.get_message().content == "downloading your clip…"
    assert [d.kind for d in delivered] == ["video"] and delivered[0].text == "Sakura"
    assert_valid_mp4(the_video(delivered, tmp_path), width=SIZE, height=SIZE, fps=25, duration=wav_duration(clip))


async def test_say_and_help_answer_in_the_channel(discord_driver: DiscordDriver, tmp_path: Path) -> None:
    [help_text] = await discord_driver.send("!help", user=MEMBER)
    assert "!avatar" in help_text.text and "!say" in help_text.text
    [say_help] = await discord_driver.send("!help say", user=MEMBER)
    assert say_help.text.startswith("!say")
    assert "--persona PERSONA:" in say_help.text and "--lang LANG:" in say_help.text
    delivered = await discord_driver.send('!say "Hi there"', user=MEMBER)
    assert_valid_mp4(the_video(delivered, tmp_path), width=SIZE, height=SIZE, fps=25)


async def test_a_bad_file_gets_the_clear_error(discord_driver: DiscordDriver, tmp_path: Path) -> None:
    notes = tmp_path / "notes.ogg"
    notes.write_bytes(b"just some words, not sound")
    [answer] = await discord_driver.send("!avatar", user=MEMBER, files=[notes])
    assert answer.kind == "message" and "audio" in answer.text and not answer.files
    [no_clip] = await discord_driver.send("!avatar", user=MEMBER)
    assert no_clip.text.startswith("Attach a voice clip")


async def test_a_malformed_link_is_answered(discord_driver: DiscordDriver, monkeypatch: pytest.MonkeyPatch) -> None:
    [help_text] = await discord_driver.send("!help http://[oops", user=MEMBER)
    assert help_text.text.startswith("There is no command !http://[oops.")
    for link in ("http://[oops", "http://h:99999/", "http://a:b:c/"):
        [refused] = await discord_driver.send(f"!avatar {link}", user=MEMBER)
        assert refused.text == f"{link} is not a valid web address; check the link, or attach the file instead."

    def unreadable(text: str) -> None:
        raise RuntimeError("a message discord.py gave us in a shape we didn't expect")

    monkeypatch.setattr(discord_driver.adapter, "link_attachment", unreadable)
    [sorry] = await discord_driver.send("!help http://example.com/", user=MEMBER)
    assert sorry.text.startswith("Sorry, something went wrong on my side.")


@pytest.fixture
async def clip_server(clip: Path) -> AsyncIterator[TestServer]:
    async def serve(request: web.Request) -> web.FileResponse:
        return web.FileResponse(clip)

    app = web.Application()
    app.router.add_get("/voice.wav", serve)
    async with TestServer(app, host="127.0.0.1") as server:
        yield server


async def test_a_link_in_the_message_is_fetched(discord_driver: DiscordDriver, clip_server: TestServer,
                                                clip: Path, tmp_path: Path) -> None:
    link = f"http://127.0.0.1:{clip_server.port}/voice.wav"
    [refused] = await discord_driver.send(f"!avatar {link}", user=MEMBER)
    assert "private network" in refused.text
    discord_driver.adapter.fetcher = SafeFetcher(max_bytes=10**7, allow_hosts=frozenset({"127.0.0.1"}))
    delivered = await discord_driver.send(f"!avatar {link}", user=MEMBER)
    assert_valid_mp4(the_video(delivered, tmp_path), width=SIZE, height=SIZE, fps=25, duration=wav_duration(clip))


async def test_a_member_who_joins_gets_a_greeting_clip(discord_driver: DiscordDriver, tmp_path: Path) -> None:
    delivered = await discord_driver.join(OTHER)
    assert [d.text for d in delivered] == ["Welcome to Test Guild 0, Lin!"]
    assert delivered[0].channel_id == str(discord_driver.channel.id)
    assert_valid_mp4(the_video(delivered, tmp_path), width=SIZE, height=SIZE, fps=25)


async def test_a_vote_counts_once_per_member_even_after_a_restart(discord_driver: DiscordDriver,
                                                                  recorder: Recorder) -> None:
    [poll] = await discord_driver.send("!poll", user=MEMBER)
    assert poll.options == ["1️⃣", "2️⃣"] and "1️⃣ Sakura" in poll.text
    polls = discord_driver.agent.polls
    await discord_driver.vote(poll, 0, user=MEMBER)
    await discord_driver.vote(poll, 0, user=MEMBER)  # the same reaction again
    await discord_driver.vote(poll, 1, user=OTHER)
    assert polls.tally("discord", "p1") == {"sakura": 1, "neon": 1}
    assert [(v.option, v.added) for v in recorder.votes] == [("sakura", True), ("neon", True)]
    # A restart empties discord.py's message cache; the poll table still knows the message.
    discord_driver.client._connection._messages.clear()  # type: ignore[union-attr]
    await discord_driver.vote(poll, 1, user=OTHER, added=False)
    await discord_driver.vote(poll, 1, user=MEMBER)
    assert polls.tally("discord", "p1") == {"neon": 1}
    assert polls.choice("discord", "p1", str(discord_driver.member(MEMBER).id)) == "neon"


async def test_admins_direct_messages_mentions_and_replies(discord_driver: DiscordDriver, recorder: Recorder) -> None:
    [admin] = await discord_driver.send("!whoami", user=ADMIN)
    [member] = await discord_driver.send("!whoami", user=MEMBER)
    assert (admin.text, member.text) == ("admin", "member")
    bot = discord_driver.client.user
    assert bot is not None
    await discord_driver.send(f"<@{bot.id}> hello there", user=MEMBER)
    mention = recorder.messages[-1]
    assert mention.mentions_bot and mention.text == "hello there" and not mention.channel.is_direct
    [answered] = await discord_driver.send(f"<@{bot.id}> !whoami", user=MEMBER)  # a mention, then a command
    assert answered.text == "member"

    bot_message = await discord_driver.channel.fetch_message(int(answered.message_id))
    data = backend.facts.make_message_dict(discord_driver.channel, discord_driver.member(MEMBER), content="thanks!",
                                           message_reference={"message_id": bot_message.id,
                                                              "channel_id": discord_driver.channel.id},
                                           referenced_message=backend.facts.dict_from_message(bot_message))
    data.update(message_reference={"message_id": bot_message.id, "channel_id": discord_driver.channel.id},
                referenced_message=backend.facts.dict_from_message(bot_message))
    backend.get_state().parse_message_create(data)
    await dpytest.run_all_events()
    assert recorder.messages[-1].replies_to_bot and recorder.messages[-1].text == "thanks!"

    dm = await discord_driver.member(MEMBER).create_dm()
    backend.make_message("psst", discord_driver.member(MEMBER)._user, dm)
    await dpytest.run_all_events()
    direct = recorder.messages[-1]
    assert direct.channel.is_direct and direct.text == "psst" and direct.channel.server_id == direct.channel.id


async def test_a_video_over_the_upload_limit_is_made_smaller(discord_driver: DiscordDriver, clip: Path,
                                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A picture that outweighs the sound, as at full size.
    engine = discord_driver.agent.config.engine
    engine.width, engine.height, engine.crf = 256, 256, 12
    [first] = await discord_driver.send("!avatar", user=MEMBER, files=[clip])
    full_size = len(first.files[0][1])
    limit = full_size * 2 // 3
    # dpytest's guilds have no upload limit of their own: give this one a small one.
    monkeypatch.setattr(discord.Guild, "filesize_limit", property(lambda guild: limit))
    delivered = await discord_driver.send("!avatar", user=MEMBER, files=[clip])
    smaller = the_video(delivered, tmp_path)
    assert smaller.stat().st_size <= limit
    info = probe(smaller)
    assert_valid_mp4(smaller, width=info["width"], height=info["height"], fps=25, duration=wav_duration(clip))

    monkeypatch.setattr(discord.Guild, "filesize_limit", property(lambda guild: 2_000))
    [refused] = await discord_driver.send("!avatar", user=MEMBER, files=[clip])
    assert refused.kind == "message" and "does not fit the upload limit of 2 kB" in refused.text


async def test_an_upload_discord_refuses_is_reported(discord_driver: DiscordDriver, clip: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse_files(self, channel_id, *, params):  # type: ignore[no-untyped-def]
        channel = backend._get_higher_locs(1)["channel"]  # noqa: F841 (dpytest reads it from this frame)
        if params.files:
            raise discord.HTTPException(backend.FakeRequest(503, "Service Unavailable"), "upstream hiccup")
        return await real_send(self, channel_id, params=params)

    real_send = backend.FakeHttp.send_message
    monkeypatch.setattr(backend.FakeHttp, "send_message", refuse_files)
    [answer] = await discord_driver.send("!avatar", user=MEMBER, files=[clip])
    assert answer.text.startswith("Discord refused the upload (503") and "Try again" in answer.text
    [still_running] = await discord_driver.send("!help", user=MEMBER)
    assert "!avatar" in still_running.text


async def test_open_channel_posts_where_the_bot_may(discord_driver: DiscordDriver) -> None:
    adapter, channel = discord_driver.adapter, discord_driver.channel
    responder = await discord_driver.agent.open_channel("discord", str(channel.id))
    await responder.send(TextReply("Announcement!"))
    assert dpytest.get_message().content == "Announcement!"
    for unknown in ("12345", "general"):
        with pytest.raises(ChannelUnavailable):
            await adapter.open_channel(unknown)
    discord_driver.deny_bot(channel, attach_files=True)
    with pytest.raises(ChannelUnavailable, match="may not post files"):
        await adapter.open_channel(str(channel.id))


async def test_a_thread_needs_the_right_to_post_in_threads(discord_driver: DiscordDriver) -> None:
    adapter, channel = discord_driver.adapter, discord_driver.channel
    thread = discord_driver.thread(channel.id)
    await adapter.open_channel(str(thread.id), server_id=str(discord_driver.guild.id))
    discord_driver.deny_bot(channel, send_messages_in_threads=True)  # "Send Messages" alone is not enough
    with pytest.raises(ChannelUnavailable, match="may not post files"):
        await adapter.open_channel(str(thread.id))
    orphan = discord_driver.thread(factories.make_id())  # its parent channel isn't in the cache
    with pytest.raises(ChannelUnavailable, match="can't see the channel this thread belongs to"):
        await adapter.open_channel(str(orphan.id))


async def test_open_channel_refuses_a_channel_of_another_guild(discord_driver: DiscordDriver) -> None:
    adapter, channel = discord_driver.adapter, discord_driver.channel
    foreign = discord_driver.other_guild()
    own_server = str(discord_driver.guild.id)
    with pytest.raises(ChannelUnavailable, match="another server"):
        await discord_driver.agent.open_channel("discord", str(foreign.id), server_id=own_server)
    await adapter.open_channel(str(foreign.id), server_id=str(foreign.guild.id))  # its own guild may
    await adapter.open_channel(str(channel.id), server_id=own_server)


async def test_an_admin_cannot_point_announcements_into_another_guild(discord_driver: DiscordDriver) -> None:
    foreign = discord_driver.other_guild()
    [answer] = await discord_driver.send(f"!server announce-channel {foreign.id}", user=ADMIN)
    assert "another server" in answer.text
    settings = discord_driver.agent.servers.settings("discord", str(discord_driver.guild.id))
    assert not settings.announce_channel
    [answer] = await discord_driver.send(f"!server announce-channel {discord_driver.channel.id}", user=ADMIN)
    assert answer.text == "Announcements now go to this channel."


def test_missing_token_is_named() -> None:
    from adapters.discord import DiscordAdapter
    from core.config import Secrets

    assert DiscordAdapter.missing_settings(Secrets(), Config()) == ["MOUTHPIECE_DISCORD_TOKEN"]
    assert DiscordAdapter.missing_settings(Secrets(discord_token="x"), Config()) == []  # type: ignore[arg-type]


def test_the_bot_never_pings_anyone_with_what_members_typed() -> None:
    from adapters.discord import build_client
    from core.config import DiscordSettings

    for shards in (0, 2):
        mentions = build_client(DiscordSettings(shards=shards)).allowed_mentions
        assert mentions is not None
        assert not (mentions.everyone or mentions.roles or mentions.users or mentions.replied_user)
