"""The Slack adapter end to end: slack-bolt and slack_sdk against the fake Slack on 127.0.0.1."""

from __future__ import annotations

import io
from pathlib import Path

import av
import pytest

from core.testing.fakes.slack import SlackDriver
from core.testing.platforms import Delivered
from core.testing.testbot import MEMBER
from tests.media import assert_valid_mp4, speech_clip, wav_duration

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(200)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return speech_clip(tmp_path_factory.mktemp("clips") / "voice.wav", "Hello there, this is my voice.")


def only_video(delivered: list[Delivered]) -> tuple[str, bytes]:
    [video] = [d for d in delivered if d.kind == "video"]
    [file] = video.files
    return file


def check_mp4(content: bytes, tmp_path: Path, duration: float | None = None) -> None:
    path = tmp_path / "uploaded.mp4"
    path.write_bytes(content)
    assert_valid_mp4(path, width=512, height=512, fps=25, duration=duration)
    with av.open(io.BytesIO(content)) as container:
        assert container.streams.video[0].codec_context.name == "h264"


async def test_a_voice_clip_comes_back_as_an_mp4_in_the_thread(slack_driver: SlackDriver, clip: Path,
                                                                tmp_path: Path) -> None:
    delivered = await slack_driver.send("!avatar", user=MEMBER, files=[clip])
    name, content = only_video(delivered)
    assert name.endswith(".mp4")
    check_mp4(content, tmp_path, duration=wav_duration(clip))
    fake = slack_driver.fake
    request = next(m for m in fake.messages if m.user == MEMBER.id)
    upload = next(m for m in fake.messages if m.files and m.user == fake.bot_user_id)
    assert upload.thread_ts == request.ts and upload.channel == request.channel
    assert fake.downloads == [f"Bearer {fake.bot_token}"]
    status = next(m for m in fake.messages if m.user == fake.bot_user_id and not m.files)
    assert status.deleted and status.thread_ts == request.ts  # progress was shown, then replaced by the video
    assert fake.called("chat.update"), "progress edits the status message"


async def test_a_slash_command_is_acknowledged_at_once_then_answered(slack_driver: SlackDriver, tmp_path: Path) -> None:
    delivered = await slack_driver.command("/say", "Good morning everyone", user=MEMBER)
    assert slack_driver.last_ack is not None
    assert slack_driver.last_ack.payload["response_type"] == "in_channel"  # the invocation stays visible
    assert slack_driver.last_ack.seconds < 0.3
    _, content = only_video(delivered)
    check_mp4(content, tmp_path)
    upload = next(m for m in slack_driver.fake.messages if m.files)
    assert upload.thread_ts is None and upload.channel == slack_driver.channel  # slash commands have no thread


async def test_the_catch_all_command_reaches_every_shared_command(slack_driver: SlackDriver) -> None:
    [personas] = await slack_driver.command("/mouthpiece", "personas", user=MEMBER)
    assert personas.text.startswith("Personas:")
    [personas_again] = await slack_driver.command("/personas", "", user=MEMBER)  # its own slash command
    assert personas_again.text == personas.text


async def test_help_answers_only_the_asker_with_the_slash_forms(slack_driver: SlackDriver) -> None:
    assert await slack_driver.command("/mouthpiece", "", user=MEMBER) == []  # nothing in the channel
    assert slack_driver.last_ack is not None and slack_driver.last_ack.payload["response_type"] == "ephemeral"
    [shown] = slack_driver.fake.responses
    assert shown["response_type"] == "ephemeral"
    assert "  /mouthpiece say TEXT [+ a photo] — a persona reads your text out on video" in shown["text"]
    assert "/mouthpiece announce" not in shown["text"]  # admin-only
    assert shown["text"].endswith("Send /mouthpiece help COMMAND for what a command's options do.")
    await slack_driver.command("/mouthpiece", "help say", user=MEMBER)
    assert slack_driver.fake.responses[-1]["text"].startswith("/mouthpiece say TEXT [+ a photo] — a persona")
    assert "  --mood MOOD: the face it makes (neutral, happy, sad, surprised, angry)" in \
        slack_driver.fake.responses[-1]["text"]
    await slack_driver.command("/mouthpiece", "help sya", user=MEMBER)
    assert slack_driver.fake.responses[-1]["text"] == ("There is no command /mouthpiece sya. Did you mean "
                                                       "/mouthpiece say? Send /mouthpiece help to see them all.")


async def test_a_file_that_is_not_audio_gets_the_clear_error(slack_driver: SlackDriver, tmp_path: Path) -> None:
    picture = tmp_path / "cat.mp3"
    picture.write_bytes(PNG_BYTES)
    [answer] = await slack_driver.send("!avatar", user=MEMBER, files=[picture])
    assert "looks like a PNG image" in answer.text
    request = next(m for m in slack_driver.fake.messages if m.user == MEMBER.id)
    assert slack_driver.fake.message(answer.channel_id, answer.message_id).thread_ts == request.ts


async def test_a_file_on_another_host_is_never_fetched(slack_driver: SlackDriver, clip: Path) -> None:
    fake = slack_driver.fake
    slack_driver.member(MEMBER)
    shared = fake.add_file(clip, mimetype="audio/wav")
    shared["url_private_download"] = shared["url_private"] = "https://files.example.com/voice.wav"
    message = fake.post_as(MEMBER.id, slack_driver.channel, "!avatar", files=[shared])
    event = fake.message_event(message) | {"files": [shared]}
    [answer] = await slack_driver.event(event)
    assert "is not stored on Slack (files.example.com)" in answer.text
    assert fake.downloads == []


async def test_a_file_over_the_cap_is_refused_before_downloading(slack_driver: SlackDriver, clip: Path) -> None:
    slack_driver.agent.config.engine.max_audio_bytes = 1000
    [answer] = await slack_driver.send("!avatar", user=MEMBER, files=[clip])
    assert "the limit is" in answer.text
    assert slack_driver.fake.downloads == []


async def test_a_file_of_unknown_size_is_cut_off_at_the_cap(slack_driver: SlackDriver, clip: Path) -> None:
    fake = slack_driver.fake
    slack_driver.agent.config.engine.max_audio_bytes = 1000
    slack_driver.member(MEMBER)
    shared = fake.add_file(clip, mimetype="audio/wav")
    del shared["size"]
    message = fake.post_as(MEMBER.id, slack_driver.channel, "!avatar", files=[shared])
    [answer] = await slack_driver.event(fake.message_event(message) | {"files": [shared]})
    assert answer.text.startswith("voice.wav is over") and "the limit" in answer.text


async def test_a_token_without_files_read_is_explained(slack_driver: SlackDriver, clip: Path) -> None:
    slack_driver.fake.files_read_scope = False
    [answer] = await slack_driver.send("!avatar", user=MEMBER, files=[clip])
    assert "the app needs the files:read scope" in answer.text


async def test_slash_avatar_takes_the_members_latest_clip_in_the_channel(slack_driver: SlackDriver, clip: Path,
                                                                        tmp_path: Path) -> None:
    [answer] = await slack_driver.command("/avatar", "", user=MEMBER)
    assert "Attach a voice clip" in answer.text  # nothing recorded yet
    fake = slack_driver.fake
    older = fake.add_file(PNG_BYTES, "older.wav", "audio/wav")
    fake.files[older["id"]].created -= 60
    fake.post_as(MEMBER.id, slack_driver.channel, "", files=[older])
    fake.post_as(MEMBER.id, slack_driver.channel, "", files=[fake.add_file(clip, "audio_message.webm", "audio/webm")])
    fake.post_as(MEMBER.id, slack_driver.channel, "", files=[fake.add_file(PNG_BYTES, "photo.png", "image/png")])
    delivered = await slack_driver.command("/avatar", "--style anime", user=MEMBER)
    _, content = only_video(delivered)
    check_mp4(content, tmp_path, duration=wav_duration(clip))
    assert fake.called("files.list")[-1]["user"] == MEMBER.id


async def test_what_members_typed_never_becomes_a_channel_ping(slack_driver: SlackDriver) -> None:
    delivered = await slack_driver.send("!talk I like <!channel>", user=MEMBER)  # the persona says it back
    [video] = [d for d in delivered if d.kind == "video"]
    assert "<!" not in video.text
    assert "&lt;!" in video.text
