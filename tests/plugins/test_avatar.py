"""!say and !avatar end to end: a real agent, real audio in, real MP4s out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.agent import Agent
from core.config import Config
from core.replies import VideoReply
from core.testing.testbot import ADMIN, TestBot
from tests.media import assert_valid_mp4, decode_frames, speech_clip, wav_duration, write_wav

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(200)


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return speech_clip(tmp_path / "voice.wav", "Hello there, this is my voice.")


def only_video(replies: list) -> VideoReply:  # type: ignore[type-arg]
    [video] = [r for r in replies if isinstance(r, VideoReply)]
    return video


async def test_say_renders_a_video_and_records_it(testbot: TestBot) -> None:
    video = only_video(await testbot.send('!say "Hello everyone, welcome to the stream!"'))
    assert_valid_mp4(video.path, width=512, height=512, fps=25, duration=video.duration)
    assert video.caption == testbot.agent.personas.get("friendly").display_name
    assert testbot.last is not None and testbot.last.statuses[0].finished
    [record] = testbot.agent.storage.recent_renders()
    assert (record.platform, record.user_id, record.persona, record.cached) == ("test", "u1", "friendly", False)


async def test_avatar_says_the_clip_with_the_chosen_style(testbot: TestBot, clip: Path) -> None:
    video = only_video(await testbot.send("!avatar --style anime", attachments=(clip,)))
    assert_valid_mp4(video.path, width=512, height=512, fps=25, duration=wav_duration(clip))
    assert testbot.agent.storage.recent_renders()[0].persona == "sakura"


async def test_size_and_rate_follow_the_config(bot_config: Config) -> None:
    bot_config.engine.width, bot_config.engine.height, bot_config.engine.fps = 320, 240, 15
    async with Agent(bot_config) as agent:
        video = only_video(await TestBot(agent).send("!say --persona neon Hi"))
    assert_valid_mp4(video.path, width=320, height=240, fps=15)


async def test_batch_renders_every_persona_with_progress(testbot: TestBot) -> None:
    replies = await testbot.send("!say --batch all Good morning")
    captions = [v.caption for v in testbot.videos(replies)]
    assert sorted(captions) == sorted(p.display_name for p in testbot.agent.personas.all())
    assert testbot.last is not None
    edits = " | ".join(testbot.last.statuses[0].edits)
    assert all(f"{n}/3" in edits for n in (1, 2, 3)), edits
    assert testbot.last.statuses[0].finished and not testbot.last.statuses[0].late_edits


async def test_the_same_request_is_served_from_the_cache(testbot: TestBot) -> None:
    first = only_video(await testbot.send("!say Once"))
    second = only_video(await testbot.send("!say Once"))
    assert first.path == second.path
    assert [r.cached for r in testbot.agent.storage.recent_renders()] == [True, False]


@pytest.mark.parametrize(
    ("make_file", "message"),
    [
        (lambda d: _write(d / "cat.mp3", PNG_BYTES), "looks like a PNG image"),
        (lambda d: _write(d / "empty.ogg", b""), "empty"),
        (lambda d: _write(d / "cut.wav", b"RIFF\x24\x00\x00\x00WAVEfmt "), "damaged"),
        (lambda d: _write(d / "notes.txt", b"just some words, not sound"), "audio"),
        (lambda d: write_wav(d / "quiet.wav", np.zeros(16000, np.float32)), "silent"),
    ],
)
async def test_bad_clips_get_a_clear_answer(testbot: TestBot, tmp_path: Path, make_file, message: str) -> None:  # type: ignore[no-untyped-def]
    replies = await testbot.send("!avatar", attachments=(make_file(tmp_path),))
    [answer] = testbot.texts(replies)
    assert message.lower() in answer.lower()
    assert not testbot.videos(replies)
    assert testbot.last is not None and testbot.last.statuses[0].finished
    cache = testbot.agent.config.engine.cache_dir
    assert not list(cache.glob("*.part")) and not list(cache.glob(".*"))


async def test_caps_on_size_and_duration(bot_config: Config, clip: Path) -> None:
    bot_config.engine.max_audio_seconds = 1.0
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        assert "1 second" in bot.texts(await bot.send("!avatar", attachments=(clip,)))[0]
    bot_config.engine.max_audio_bytes = 1000
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        assert "the limit is" in bot.texts(await bot.send("!avatar", attachments=(clip,)))[0]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("!avatar", "Attach a voice clip"),
        ("!say", '!say needs TEXT (what the persona says), e.g. !say "Hello everyone!"'),
        ("!say 🎉🎉🎉 \x07", "nothing that can be read out loud"),
        ("!say --persona nobody hi", "no persona or style called 'nobody'"),
        ("!say --style baroque hi", "Personas: friendly, neon, sakura"),
        ("!say --persona neon --style anime hi", "not both"),
        ("!say " + "la " * 400, "1,000-character limit"),
    ],
)
async def test_bad_requests_get_a_specific_message(testbot: TestBot, line: str, message: str) -> None:
    [answer] = testbot.texts(await testbot.send(line))
    assert message.lower() in answer.lower()


async def test_the_agent_keeps_serving_after_bad_input(testbot: TestBot, tmp_path: Path) -> None:
    await testbot.send("!avatar", attachments=(_write(tmp_path / "x.mp3", PNG_BYTES),))
    await testbot.send("!say --persona nobody hi")
    assert only_video(await testbot.send("!say Still here"))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


async def test_mood_changes_the_face(testbot: TestBot) -> None:
    neutral = only_video(await testbot.send("!say Hi there"))
    angry = only_video(await testbot.send("!say --mood angry Hi there"))
    assert neutral.path != angry.path
    first_neutral, first_angry = decode_frames(neutral.path)[0], decode_frames(angry.path)[0]
    assert np.abs(first_neutral.astype(int) - first_angry.astype(int)).max() > 100  # the brows moved
    [answer] = testbot.texts(await testbot.send("!say --mood smug Hi"))
    assert "--mood must be one of: neutral, happy, sad, surprised, angry" in answer


async def test_messages_name_commands_with_the_configured_prefix(bot_config) -> None:  # type: ignore[no-untyped-def]
    bot_config.agent.prefix = "?"
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        [hint] = bot.texts(await bot.send("?avatar"))
        assert "to ?avatar" in hint and "?say TEXT" in hint and "!" not in hint
        [usage] = bot.texts(await bot.send("?server persona", user=ADMIN))
        assert usage == "Use it as: ?server persona NAME"


async def test_personas_lists_what_each_is_called_and_how_to_pick_it(testbot: TestBot) -> None:
    [listing] = testbot.texts(await testbot.send("!personas"))
    assert listing.startswith("Personas:\n")
    assert "• Pip — --persona friendly or --style friendly: A round, cheerful bear cub" in listing
    assert "• Neon — --persona neon or --style cyberpunk:" in listing
