"""!voice stores a member's voice sample; !say --voice mine speaks in it (SpeechT5 cloning, tiny models)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from core.agent import Agent
from core.config import Config
from core.testing.testbot import ADMIN, TestBot
from engine.audio import write_wav
from engine.errors import ModelError
from engine.models import SPEAKER_ENCODER
from engine.types import SAMPLE_RATE
from personas import voices
from tests.fakes.models import TinyModels, models_config
from tests.media import assert_valid_mp4, speech_clip


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return speech_clip(tmp_path / "me.wav", "This is how I sound when I talk.", "Nice to meet you.", pause=0.5)


@pytest.fixture
async def cloning_bot(bot_config: Config, tiny_models: TinyModels):  # type: ignore[no-untyped-def]
    bot_config.models = models_config(tiny_models)
    bot_config.engine.width = bot_config.engine.height = 128
    async with Agent(bot_config) as agent:
        yield TestBot(agent)


async def test_without_models_voice_explains_what_to_configure(testbot: TestBot, clip: Path) -> None:
    [text] = testbot.texts(await testbot.send("!voice", attachments=(clip,)))
    assert "[models] speecht5, hifigan, speaker_encoder" in text
    [status] = testbot.texts(await testbot.send("!voice"))
    assert "You have no voice sample" in status and "[models] speecht5" in status
    [said] = testbot.texts(await testbot.send("!say --voice mine Hello"))
    assert "[models] speecht5" in said


async def test_help_marks_what_needs_models_until_they_are_configured(testbot: TestBot) -> None:
    [member] = testbot.texts(await testbot.send("!help"))
    assert "!voice" not in member and "--voice," not in member
    assert "!say TEXT [+ a photo] — a persona reads your text out on video" in member
    assert "(voice messages not set up here)" in member
    [admin] = testbot.texts(await testbot.send("!help", user=ADMIN))
    assert "(needs [models] speecht5, hifigan, speaker_encoder)" in admin and "(voice messages: needs [models] asr)" \
        in admin


async def test_help_marks_nothing_once_the_models_are_configured(cloning_bot: TestBot) -> None:
    [ready] = cloning_bot.texts(await cloning_bot.send("!help"))
    assert "not set up" not in ready and "--voice, --lang" in ready
    assert "!voice [clear] + a 3–10 s voice clip — store your voice sample" in ready
    [say] = cloning_bot.texts(await cloning_bot.send("!help say"))
    assert "--voice mine: speak in your own voice (stored with !voice)\n" in say


async def test_store_use_and_clear_a_voice_sample(cloning_bot: TestBot, clip: Path) -> None:
    replies = await cloning_bot.send("!voice", attachments=(clip,))
    assert any("Saved your voice sample" in t for t in cloning_bot.texts(replies)), replies
    storage = cloning_bot.agent.storage
    stored = voices.find(storage, "test", "u1")
    assert stored is not None and 3 <= stored.duration <= 10
    sample = voices.sample_file(storage, stored)
    assert sample.parent == storage.path.parent / "voices" and sample.is_file()
    assert "u1" not in sample.name  # named by a hash, never by what the user sent

    [status] = cloning_bot.texts(await cloning_bot.send("!voice"))
    assert f"{stored.duration:.1f} s" in status and "[models]" not in status

    [video] = cloning_bot.videos(await cloning_bot.send("!say --voice mine Hi there."))
    assert_valid_mp4(video.path, width=128, height=128, fps=25, duration=video.duration)
    [plain] = cloning_bot.videos(await cloning_bot.send("!say Hi there."))
    assert plain.path != video.path  # espeak's voice, another render

    [others] = cloning_bot.texts(await cloning_bot.send("!say --voice mine Hi there.", user=ADMIN))
    assert "no voice sample yet" in others

    assert cloning_bot.texts(await cloning_bot.send("!voice clear")) == ["Your voice sample is deleted."]
    assert voices.find(storage, "test", "u1") is None and not sample.exists()
    assert cloning_bot.texts(await cloning_bot.send("!voice clear")) == ["You have no voice sample stored."]


async def test_a_sample_of_the_wrong_length_is_refused(cloning_bot: TestBot, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    short = write_wav(tmp_path / "short.wav", rng.uniform(-0.3, 0.3, SAMPLE_RATE).astype(np.float32))
    replies = await cloning_bot.send("!voice", attachments=(short,))
    assert any("3–10 seconds" in t for t in cloning_bot.texts(replies)), replies
    assert voices.find(cloning_bot.agent.storage, "test", "u1") is None


async def test_unknown_arguments_are_explained(cloning_bot: TestBot) -> None:
    [text] = cloning_bot.texts(await cloning_bot.send("!voice delete"))
    assert text.startswith("!voice takes one of: clear (got 'delete')")


async def test_the_speaker_encoder_loads_off_the_event_loop_and_a_failed_load_keeps_no_sample(
        cloning_bot: TestBot, clip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hub = cloning_bot.agent.models
    loop_thread = threading.get_ident()
    loaded_on: list[int] = []
    get = hub.get

    def recording_get(kind, language=None):  # type: ignore[no-untyped-def]
        if kind is SPEAKER_ENCODER:
            loaded_on.append(threading.get_ident())
        return get(kind, language)

    monkeypatch.setattr(hub, "get", recording_get)
    replies = await cloning_bot.send("!voice", attachments=(clip,))
    assert any("Saved your voice sample" in t for t in cloning_bot.texts(replies)), replies
    assert loaded_on and loop_thread not in loaded_on

    def broken_get(kind, language=None):  # type: ignore[no-untyped-def]
        if kind is SPEAKER_ENCODER:
            raise ModelError('[models] speaker_encoder = "models/sv": the model there could not be loaded (broken).')
        return get(kind, language)

    monkeypatch.setattr(hub, "get", broken_get)
    assert cloning_bot.texts(await cloning_bot.send("!voice clear")) == ["Your voice sample is deleted."]
    [answer] = cloning_bot.texts(await cloning_bot.send("!voice", attachments=(clip,)))
    assert "could not be loaded" in answer
    assert voices.find(cloning_bot.agent.storage, "test", "u1") is None
