"""One test per feature, run on every platform's fake (``platform_driver``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import Config
from core.testing.platforms import PlatformDriver
from core.testing.testbot import MEMBER, test_config
from tests.media import assert_valid_mp4, speech_clip, wav_duration

SIZE = 128


@pytest.fixture
def bot_config(tmp_path: Path) -> Config:
    config = test_config(tmp_path)
    config.engine.width = config.engine.height = SIZE
    return config


async def test_a_voice_clip_becomes_a_video(platform_driver: PlatformDriver, tmp_path: Path) -> None:
    clip = speech_clip(tmp_path / "voice.wav", "Same test, every platform.")
    delivered = await platform_driver.send("!avatar", user=MEMBER, files=[clip])
    [video] = [d for d in delivered if d.kind in ("video", "video_note")]
    [(_, data)] = video.files
    (tmp_path / "out.mp4").write_bytes(data)
    assert_valid_mp4(tmp_path / "out.mp4", width=SIZE, height=SIZE, fps=25, duration=wav_duration(clip))


async def test_a_bad_file_gets_a_clear_answer(platform_driver: PlatformDriver, tmp_path: Path) -> None:
    notes = tmp_path / "notes.ogg"
    notes.write_bytes(b"just some words, not sound")
    delivered = await platform_driver.send("!avatar", user=MEMBER, files=[notes])
    assert [d.kind for d in delivered] == ["message"] and "audio" in delivered[0].text
