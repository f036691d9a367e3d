"""The Telegram adapter end to end: the real agent and python-telegram-bot against the fake Bot API."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
import telegram.ext._aioratelimiter
import telegram.ext._utils.networkloop
from pydantic import SecretStr

from adapters.telegram import TelegramAdapter
from core.adapter import ChannelUnavailable
from core.agent import Agent
from core.commands import Command
from core.config import Config, Secrets
from core.context import Context
from core.events import MessageEvent, ParsedCommand, User
from core.plugins import hookimpl
from core.replies import PollReply, TextReply, VoteOption
from core.runner import FatalAdapterError
from core.testing.fakes.telegram import (
    FakeTelegramAPI,
    TelegramDriver,
    round_video_note,
    running_telegram,
    voice_recording,
)
from core.testing.fakes.telegram_api import GROUP
from core.testing.platforms import Delivered
from core.testing.testbot import ADMIN, MEMBER
from engine.encode import probe
from tests.media import assert_valid_mp4, speech_clip, wav_duration
from tests.sleeps import instant_sleeps

OTHER_MEMBER = User(id="u2", name="Linus")


@pytest.fixture
def small_config(bot_config: Config) -> Config:
    """Small, short renders: these tests are about Telegram, not the engine."""
    bot_config.engine.width = bot_config.engine.height = 128
    bot_config.engine.fps = 10
    return bot_config


@pytest.fixture
def voice_wav(tmp_path: Path) -> Path:
    return speech_clip(tmp_path / "voice.wav", "Hello from Telegram.")


def uploaded_video(tmp_path: Path, message: Delivered) -> Path:
    [(_, content)] = message.files
    path = tmp_path / f"uploaded-{message.message_id}.mp4"
    path.write_bytes(content)
    return path


class PollAndSecret:
    """``!poll`` posts a two-option poll; ``!secret`` is for admins only."""

    @hookimpl
    def register_commands(self, register: Callable[[Command], None]) -> None:
        async def poll(ctx: Context, command: ParsedCommand) -> None:
            options = (VoteOption("cats", "Cats"), VoteOption("dogs", "Dogs"))
            await ctx.reply(PollReply("best-pet", "Cats or dogs?", options))

        async def secret(ctx: Context, command: ParsedCommand) -> None:
            await ctx.reply("the secret is 42")

        register(Command("poll", "a poll", poll, plugin="test"))
        register(Command("secret", "admins only", secret, admin_only=True, plugin="test"))


# -- clips in, videos out ------------------------------------------------------------------


async def test_a_voice_message_comes_back_as_a_streamable_mp4(telegram_driver: TelegramDriver, tmp_path: Path,
                                                              voice_wav: Path) -> None:
    voice = voice_recording(voice_wav, tmp_path / "voice.ogg")
    [video] = await telegram_driver.send("/avatar --style anime", user=MEMBER, files=[voice])
    assert video.kind == "video" and video.text == "Sakura"
    assert_valid_mp4(uploaded_video(tmp_path, video), width=512, height=512, fps=25)
    assert abs(probe(uploaded_video(tmp_path, video))["audio_duration"] - wav_duration(voice_wav)) < 0.1
    [sent] = telegram_driver.api.called("sendVideo")
    assert sent["supports_streaming"] == "true" and (sent["width"], sent["height"]) == ("512", "512")
    # The status message showed progress, then made way for the video.
    [status] = [m for m in telegram_driver.api.messages.values() if m.from_bot and m.kind == "message"]
    assert status.deleted and status.texts[0] == "downloading your clip…" and len(status.texts) > 1


async def test_the_clip_may_be_on_the_message_the_command_replies_to(small_config: Config,
                                                                     telegram_api: FakeTelegramAPI,
                                                                     tmp_path: Path, voice_wav: Path) -> None:
    async with running_telegram(telegram_api, small_config) as driver:
        clip = driver.message("", user=MEMBER, files=[voice_wav], kind="audio")
        assert await driver.deliver({"message": clip}) == []  # a clip alone asks for nothing
        [video] = await driver.send("/avatar@mouthpiece_bot", user=OTHER_MEMBER, reply_to=clip)
    assert_valid_mp4(uploaded_video(tmp_path, video), width=128, height=128, fps=10, duration=None)
    assert video.kind == "video"


async def test_commands_for_other_bots_are_left_alone(telegram_driver: TelegramDriver) -> None:
    assert await telegram_driver.send("/say@another_bot hello", user=MEMBER) == []
    assert await telegram_driver.send("/weather", user=MEMBER) == []  # not ours, in a group
    [answer] = await telegram_driver.send("/weather", user=MEMBER, private=True)
    assert "There is no command !weather" in answer.text
    [welcome] = await telegram_driver.send("/start", user=MEMBER, private=True)
    assert welcome.text.startswith("Commands:")


async def test_the_command_menu_is_registered(telegram_driver: TelegramDriver) -> None:
    menus = telegram_driver.api.command_menus
    members = {c["command"]: c["description"] for c in menus["default"]}
    assert {"avatar", "say", "help"} <= set(members)
    assert members["say"] == "a persona reads your text out on video — TEXT [+ a photo]"
    assert "announce" not in members and "server" not in members  # admin-only: for those who may use them
    for scope in ("all_chat_administrators", "all_private_chats"):
        assert {c["command"] for c in menus[scope]} == {c.name for c in telegram_driver.agent.commands.all()}


async def test_bang_commands_work_too(small_config: Config, telegram_api: FakeTelegramAPI) -> None:
    async with running_telegram(telegram_api, small_config) as driver:
        [video] = await driver.send("!say Hi there", user=MEMBER)
    assert video.kind == "video"


# -- round video notes ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["video_note", "video"])
async def test_a_round_video_note_or_a_video_is_a_clip_too(small_config: Config, telegram_api: FakeTelegramAPI,
                                                          tmp_path: Path, voice_wav: Path, kind: str) -> None:
    recording = round_video_note(voice_wav, tmp_path / "note.mp4")
    async with running_telegram(telegram_api, small_config) as driver:
        [video] = await driver.send("/avatar", user=MEMBER, files=[recording], kind=kind)
    assert video.kind == "video"
    uploaded = uploaded_video(tmp_path, video)
    assert abs(probe(uploaded)["audio_duration"] - wav_duration(voice_wav)) < 0.15


async def test_note_option_answers_with_a_round_video_note(telegram_driver: TelegramDriver, tmp_path: Path) -> None:
    [note, caption] = await telegram_driver.send("/say --note Hello, round world", user=MEMBER)
    assert note.kind == "video_note"
    assert (caption.kind, caption.text) == ("message", "Pip")  # a note takes no caption: it follows as text
    info = probe(uploaded_video(tmp_path, note))
    assert info["width"] == info["height"] <= 640 and info["duration"] <= 60
    [sent] = telegram_driver.api.called("sendVideoNote")
    assert sent["length"] == "512"


async def test_config_makes_notes_the_default_and_no_note_opts_out(small_config: Config,
                                                                   telegram_api: FakeTelegramAPI) -> None:
    small_config.telegram.video_notes = True
    async with running_telegram(telegram_api, small_config) as driver:
        [note, _] = await driver.send("/say Hi", user=MEMBER)
        [video] = await driver.send("/say --no-note Hi", user=MEMBER)
    assert (note.kind, video.kind) == ("video_note", "video")


async def test_a_video_that_cannot_be_a_note_comes_as_a_video_with_the_reason(bot_config: Config,
                                                                              telegram_api: FakeTelegramAPI) -> None:
    bot_config.engine.width, bot_config.engine.height, bot_config.engine.fps = 160, 96, 10
    async with running_telegram(telegram_api, bot_config) as driver:
        [video] = await driver.send("/say --note Hi", user=MEMBER)
    assert video.kind == "video"
    assert "round video notes must be square, and this one is 160×96" in video.text


# -- bad input ----------------------------------------------------------------------------------


async def test_a_document_that_is_not_audio_gets_a_clear_answer(telegram_driver: TelegramDriver,
                                                                 tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("just some words, not sound")
    [answer] = await telegram_driver.send("/avatar", user=MEMBER, files=[notes])
    assert "notes.txt" in answer.text and "audio" in answer.text
    assert not telegram_driver.api.called("sendVideo")


async def test_a_file_over_the_bot_download_limit_is_explained(telegram_driver: TelegramDriver,
                                                                voice_wav: Path) -> None:
    [answer] = await telegram_driver.send("/avatar", user=MEMBER, files=[voice_wav], claimed_size=25 * 2**20)
    assert "voice.wav is 25.0 MB, but Telegram only lets bots download files up to 20 MB" in answer.text
    assert not telegram_driver.api.called("getFile")


async def test_telegram_refusing_a_download_is_explained(telegram_driver: TelegramDriver, voice_wav: Path) -> None:
    telegram_driver.api.fail("getFile", 400, "Bad Request: file is too big")
    [answer] = await telegram_driver.send("/avatar", user=MEMBER, files=[voice_wav], kind="voice")
    assert "Telegram only lets bots download files up to 20 MB" in answer.text


# -- members, votes, admins ------------------------------------------------------------------------


async def test_a_newcomer_is_greeted_with_a_clip(small_config: Config, telegram_api: FakeTelegramAPI,
                                                 tmp_path: Path) -> None:
    async with running_telegram(telegram_api, small_config) as driver:
        [greeting] = await driver.join(OTHER_MEMBER)
        assert await driver.join(User(id="b1", name="Robot", is_bot=True)) == []
    assert greeting.kind == "video" and greeting.text == "Welcome to Test Group, Linus!"
    assert_valid_mp4(uploaded_video(tmp_path, greeting), width=128, height=128, fps=10)


async def test_a_vote_counts_once_per_member_and_the_buttons_show_it(bot_config: Config,
                                                                     telegram_api: FakeTelegramAPI) -> None:
    async with running_telegram(telegram_api, bot_config, plugins=[PollAndSecret()]) as driver:
        [poll] = await driver.send("/poll", user=MEMBER)
        assert poll.options == ["Cats", "Dogs"]
        [shown] = await driver.vote(poll, 0, user=MEMBER)
        assert (shown.options, driver.last_toast) == (["Cats · 1", "Dogs"], "Vote counted.")
        assert await driver.vote(poll, 0, user=MEMBER) == []
        assert driver.last_toast == "You already voted for this."
        [shown] = await driver.vote(poll, 0, user=OTHER_MEMBER)
        assert shown.options == ["Cats · 2", "Dogs"]
        [shown] = await driver.vote(poll, 1, user=MEMBER)
        assert (shown.options, driver.last_toast) == (["Cats · 1", "Dogs · 1"], "Vote changed.")
    # The buttons name the poll through the database, so they still work after a restart.
    async with running_telegram(telegram_api, bot_config, plugins=[PollAndSecret()]) as driver:
        [shown] = await driver.vote(poll, 1, user=ADMIN)
    assert shown.options == ["Cats · 1", "Dogs · 2"]
    assert len(telegram_api.callback_answers) == 5


async def test_a_button_press_too_old_to_answer_still_counts_and_troubles_no_one(
        bot_config: Config, telegram_api: FakeTelegramAPI) -> None:
    async with running_telegram(telegram_api, bot_config, plugins=[PollAndSecret()]) as driver:
        [poll] = await driver.send("/poll", user=MEMBER)
        # What Telegram answers for a press that waited out the answer window (a bot down for a while).
        telegram_api.fail("answerCallbackQuery", 400,
                          "Bad Request: query is too old and response timeout expired or query ID is invalid")
        [shown] = await driver.vote(poll, 0, user=MEMBER)
    assert shown.options == ["Cats · 1", "Dogs"]  # counted, and no apology posted in the group


async def test_admin_rights_come_from_get_chat_member(bot_config: Config, telegram_api: FakeTelegramAPI) -> None:
    async with running_telegram(telegram_api, bot_config, plugins=[PollAndSecret()]) as driver:
        [refused] = await driver.send("/secret", user=MEMBER)
        [allowed] = await driver.send("/secret", user=ADMIN)
        [in_private] = await driver.send("/secret", user=MEMBER, private=True)
    assert refused.text == "Only admins can use !secret."
    assert allowed.text == in_private.text == "the secret is 42"
    asked = {int(c["user_id"]) for c in telegram_api.called("getChatMember")}
    assert asked == {driver.telegram_user(MEMBER)["id"], driver.telegram_user(ADMIN)["id"]}


async def test_anonymous_admins_speak_as_the_group_and_count_as_admins(bot_config: Config,
                                                                      telegram_api: FakeTelegramAPI) -> None:
    # What Telegram sends for an admin who posts anonymously: the group as sender_chat, a stand-in bot as from.
    stand_in = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
    channel = {"id": -1002000000002, "type": "channel", "title": "News"}
    async with running_telegram(telegram_api, bot_config, plugins=[PollAndSecret()]) as driver:
        command = {"type": "bot_command", "offset": 0, "length": len("/secret")}
        anonymous = telegram_api.member_message(driver.chat, stand_in, sender_chat=driver.chat, text="/secret",
                                                entities=[command])
        [allowed] = await driver.deliver({"message": anonymous})
        as_channel = telegram_api.member_message(driver.chat, {**stand_in, "id": 136817688, "username": "Channel_Bot"},
                                                 sender_chat=channel, text="/secret", entities=[command])
        [refused] = await driver.deliver({"message": as_channel})
    assert allowed.text == "the secret is 42"
    assert refused.text == "Only admins can use !secret."
    assert not telegram_api.called("getChatMember")


# -- failures ----------------------------------------------------------------------------------------


async def test_a_refused_upload_is_reported_and_the_bot_keeps_going(small_config: Config, telegram_api: FakeTelegramAPI,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    telegram_api.fail("sendVideo", 413, "Request Entity Too Large")
    async with running_telegram(telegram_api, small_config) as driver:
        with caplog.at_level(logging.ERROR, logger="adapters.telegram_replies"):
            [answer] = await driver.send("/say Too big", user=MEMBER)
        [video] = await driver.send("/say Fine now", user=MEMBER)
    assert answer.text.startswith("The video is ready, but Telegram refused the upload (Request Entity Too Large)")
    assert "could not upload a video" in caplog.text
    assert video.kind == "video"


async def test_polling_survives_a_dropped_connection(telegram_driver: TelegramDriver,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    waits = instant_sleeps(monkeypatch, telegram.ext._utils.networkloop)
    telegram_driver.api.fail("getUpdates", drop=True)
    await telegram_driver.send("/help", user=MEMBER)  # answered by the poll already waiting
    [answer] = await telegram_driver.send("/help", user=MEMBER)  # needs the poll that dropped to be retried
    assert answer.text.startswith("Commands:")
    assert len(telegram_driver.api.called("getUpdates")) >= 3
    assert waits == [1]  # python-telegram-bot's back-off after the dropped poll, driven, not waited out


# -- webhook mode ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        return int(probe_socket.getsockname()[1])


@pytest.fixture
def webhook_config(small_config: Config) -> Config:
    port = free_port()
    small_config.telegram.mode = "webhook"
    small_config.telegram.listen, small_config.telegram.port = "127.0.0.1", port
    small_config.telegram.webhook_url = f"http://127.0.0.1:{port}/telegram"
    return small_config


async def test_webhook_mode_takes_updates_posted_with_the_secret(webhook_config: Config,
                                                                 telegram_api: FakeTelegramAPI) -> None:
    secrets = Secrets(telegram_token=SecretStr(telegram_api.token), telegram_webhook_secret=SecretStr("s3cret-value"))
    async with running_telegram(telegram_api, webhook_config, secrets=secrets) as driver:
        assert telegram_api.webhook is not None
        assert telegram_api.webhook["url"] == webhook_config.telegram.webhook_url
        assert telegram_api.webhook["secret_token"] == "s3cret-value"
        [answer] = await driver.send("/help", user=MEMBER)
        forged = {"update_id": 999, "message": driver.message("/secret", user=MEMBER)}
        async with aiohttp.ClientSession() as session, session.post(
                webhook_config.telegram.webhook_url, json=forged,
                headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as response:
            refused = response.status
    assert answer.text.startswith("Commands:")
    assert telegram_api.webhook_responses == [200] and refused == 403
    assert not telegram_api.called("getUpdates")


async def test_webhook_mode_makes_up_a_secret_when_none_is_set(webhook_config: Config,
                                                               telegram_api: FakeTelegramAPI) -> None:
    async with running_telegram(telegram_api, webhook_config) as driver:
        [answer] = await driver.send("/help", user=MEMBER)
        assert telegram_api.webhook is not None and len(telegram_api.webhook["secret_token"]) >= 32
    assert answer.text.startswith("Commands:")


# -- posting unprompted, and what the agent learns about a message -------------------------------


async def test_open_channel_posts_only_where_the_bot_may(telegram_driver: TelegramDriver) -> None:
    api, agent = telegram_driver.api, telegram_driver.agent
    responder = await agent.open_channel("telegram", str(GROUP["id"]))
    await responder.send(TextReply("Stream starts in 5 minutes!"))
    assert [m.text for m in api.bot_messages()] == ["Stream starts in 5 minutes!"]
    with pytest.raises(ChannelUnavailable, match="Chat not found"):
        await agent.open_channel("telegram", "-100999")
    api.set_status(GROUP["id"], api.bot["id"], "restricted")
    with pytest.raises(ChannelUnavailable, match="may not send messages"):
        await agent.open_channel("telegram", str(GROUP["id"]))


async def test_announcements_stay_in_the_group_or_its_linked_channel(telegram_driver: TelegramDriver) -> None:
    api, agent = telegram_driver.api, telegram_driver.agent
    linked = {"id": -1002000000002, "type": "channel", "title": "Group News", "linked_chat_id": GROUP["id"]}
    unrelated = {"id": -1003000000003, "type": "channel", "title": "Someone Else's"}
    for chat in (linked, unrelated):
        api.chats[chat["id"]] = chat
        api.set_status(chat["id"], api.bot["id"], "administrator")
    group = str(GROUP["id"])
    await agent.open_channel("telegram", group, server_id=group)
    await agent.open_channel("telegram", str(linked["id"]), server_id=group)
    with pytest.raises(ChannelUnavailable, match="neither this chat nor its linked channel"):
        await agent.open_channel("telegram", str(unrelated["id"]), server_id=group)


async def test_a_send_refused_by_flood_control_is_sent_after_the_wait(telegram_driver: TelegramDriver,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    waits = instant_sleeps(monkeypatch, telegram.ext._aioratelimiter)
    api = telegram_driver.api
    api.flood("sendMessage", retry_after=1)  # the shortest wait Telegram asks for
    [answer] = await telegram_driver.send("/help", user=MEMBER)
    assert answer.text.startswith("Commands:")
    assert len(api.called("sendMessage")) == 2  # refused once, then sent
    assert waits == [pytest.approx(1.1)]  # the wait Telegram asked for (and a margin), driven, not waited out


class Listener:
    def __init__(self) -> None:
        self.events: list[MessageEvent] = []

    @hookimpl
    def on_message(self, event: MessageEvent, ctx: Context) -> None:
        self.events.append(event)


async def test_mentions_replies_and_direct_messages_are_told_apart(small_config: Config,
                                                                   telegram_api: FakeTelegramAPI) -> None:
    listener = Listener()
    async with running_telegram(telegram_api, small_config, plugins=[listener]) as driver:
        [help_message] = await driver.send("/help", user=MEMBER)
        mention = driver.message("hey @Mouthpiece_Bot, hi", user=MEMBER)
        mention["entities"] = [{"type": "mention", "offset": 4, "length": 15}]
        await driver.deliver({"message": mention})
        bot_message = telegram_api.messages[(GROUP["id"], int(help_message.message_id))].data
        await driver.send("thanks!", user=MEMBER, reply_to=bot_message)
        await driver.send("hello", user=MEMBER, private=True)
    flags = [(e.text, e.mentions_bot, e.replies_to_bot, e.channel.is_direct) for e in listener.events]
    assert flags == [("hey @Mouthpiece_Bot, hi", True, False, False), ("thanks!", False, True, False),
                     ("hello", False, False, True)]
    assert listener.events[0].user.name == "Ada" and listener.events[0].channel.name == "Test Group"


def test_the_adapter_needs_its_token() -> None:
    assert TelegramAdapter.missing_settings(Secrets(), Config()) == ["MOUTHPIECE_TELEGRAM_TOKEN"]
    assert TelegramAdapter.missing_settings(Secrets(telegram_token=SecretStr("1:x")), Config()) == []


async def test_a_failing_handler_is_logged_and_reported_and_the_bot_keeps_going(
        telegram_driver: TelegramDriver, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(message: object) -> bool:
        raise RuntimeError("translation bug")

    monkeypatch.setattr(telegram_driver.adapter, "_mentions_bot", broken)
    with caplog.at_level(logging.ERROR, logger="adapters.telegram"):
        [apology] = await telegram_driver.send("/help", user=MEMBER)
    assert apology.text.startswith("Sorry, something went wrong on my side.")
    assert "failed to handle an update" in caplog.text and "translation bug" in caplog.text
    monkeypatch.undo()
    [answer] = await telegram_driver.send("/help", user=MEMBER)
    assert answer.text.startswith("Commands:")


async def test_a_rejected_token_stops_the_adapter_without_showing_the_token(small_config: Config,
                                                                            telegram_api: FakeTelegramAPI) -> None:
    wrong = "654321:WRONG-token-value"
    small_config.telegram.api_url, small_config.telegram.file_url = telegram_api.api_url, telegram_api.file_url
    async with Agent(small_config, Secrets(telegram_token=SecretStr(wrong))) as agent:
        with pytest.raises(FatalAdapterError) as stopped:
            await TelegramAdapter(agent).run()
    assert "MOUTHPIECE_TELEGRAM_TOKEN" in str(stopped.value)
    assert wrong not in str(stopped.value) and stopped.value.__cause__ is None and stopped.value.__suppress_context__


async def test_the_token_stays_out_of_the_log(small_config: Config, telegram_api: FakeTelegramAPI,
                                              caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        async with running_telegram(telegram_api, small_config) as driver:
            [answer] = await driver.send("/help", user=MEMBER)
    assert answer.text.startswith("Commands:")
    bot_side = [r.getMessage() for r in caplog.records if r.name != "aiohttp.access"]  # the fake server's own log
    assert any("getUpdates" in line for line in bot_side)  # the request lines are there, without the token
    assert not [line for line in bot_side if telegram_api.token in line]
