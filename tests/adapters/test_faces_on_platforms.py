"""Faces through every platform's real client: ``--face me``, an attached photo, a server's own persona."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.config import Config
from core.testing.fakes.discord import DiscordDriver
from core.testing.fakes.discord_interactions import SlashDriver
from core.testing.fakes.telegram import TelegramDriver, voice_recording
from core.testing.platforms import Delivered, PlatformDriver
from core.testing.testbot import ADMIN, MEMBER, test_config
from tests.media import assert_valid_mp4, decode_frames, speech_clip

SIZE = 128


@pytest.fixture
def bot_config(tmp_path: Path) -> Config:
    config = test_config(tmp_path)
    config.engine.width = config.engine.height = SIZE
    return config


def video_of(delivered: list[Delivered], folder: Path) -> np.ndarray:
    """The first frame of the one video the bot delivered, checked as an MP4 of the test's size."""
    [video] = [d for d in delivered if d.kind in ("video", "video_note")]
    [(name, content)] = video.files
    path = folder / f"{video.message_id}-{Path(name).name}"
    path.write_bytes(content)
    assert_valid_mp4(path, width=SIZE, height=SIZE, fps=25)
    return decode_frames(path)[0].astype(np.float32)


async def test_face_me_on_every_platform(platform_driver: PlatformDriver, face: Path, tmp_path: Path) -> None:
    platform_driver.set_picture(MEMBER, face)
    own = video_of(await platform_driver.send("!say --face me Hello from my own face", user=MEMBER), tmp_path)
    sprite = video_of(await platform_driver.send("!say Hello from my own face", user=MEMBER), tmp_path)
    assert float(np.abs(own - sprite).mean()) > 20  # the member's face, not the persona's art


async def test_a_server_persona_from_an_attached_photo_on_every_platform(platform_driver: PlatformDriver,
                                                                         face: Path, tmp_path: Path) -> None:
    [made] = await platform_driver.send("!persona add astro", user=ADMIN, files=[face])
    assert made.text.startswith("astro is a persona of this server now (photo).")
    video_of(await platform_driver.send("!say --persona astro We have liftoff", user=MEMBER), tmp_path)
    [listing] = await platform_driver.send("!personas", user=MEMBER)
    assert listing.text.endswith("This server's own:\n• astro (photo)")


async def test_a_telegram_photo_replying_to_a_voice_message_is_its_face(telegram_driver: TelegramDriver, face: Path,
                                                                         tmp_path: Path) -> None:
    voice = voice_recording(speech_clip(tmp_path / "hi.wav", "Hello there."), tmp_path / "hi.ogg")
    clip = telegram_driver.message("", user=MEMBER, files=[voice])
    assert await telegram_driver.deliver({"message": clip}) == []
    with_face = video_of(await telegram_driver.send("/avatar", user=MEMBER, files=[face], reply_to=clip), tmp_path)
    without = video_of(await telegram_driver.send("/avatar", user=MEMBER, reply_to=clip), tmp_path)
    assert float(np.abs(with_face - without).mean()) > 20


async def test_slash_say_with_face_me_and_this_servers_personas(discord_interactions: SlashDriver,
                                                                discord_driver: DiscordDriver, face: Path) -> None:
    discord_driver.set_picture(MEMBER, face)
    interaction = await discord_interactions.invoke("say", {"text": "Slash and face", "face": "me"}, user=MEMBER)
    assert interaction.original is not None and interaction.original.files[0][0].endswith(".mp4")
    await discord_driver.send("!persona add astro", user=ADMIN, files=[face])
    choices = await discord_interactions.autocomplete("say", "persona", "ast", user=MEMBER)
    assert [c["value"] for c in choices] == ["astro"]
