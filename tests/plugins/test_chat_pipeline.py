"""Talking to a persona through the real neural models, end to end: voice in → Whisper transcript →
language-model reply → VITS or cloned SpeechT5 speech → MP4, on the console and on Telegram.

The models are the tiny random ones of ``tests.fakes.models``, made ``speaking`` (they write only
letters and spaces), so every conversation takes the model path, never the template fallback for
unspeakable text. Random weights say gibberish: the tests compare each stage's output with the
next stage's input, never with words.
"""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import av
import pytest
from rich.console import Console
from sqlmodel import select

from adapters.console import ConsoleAdapter
from core.agent import Agent
from core.config import Config
from core.testing.fakes.telegram import FakeTelegramAPI, running_telegram, voice_recording
from core.testing.testbot import MEMBER
from engine.models import ASR, LLM, SPEAKER_ENCODER, SPEECHT5, VITS, ChatMessage
from engine.models.asr import WhisperRecognizer
from engine.models.dialogue import CausalLMReplier
from engine.models.voices import SpeechT5Voice, VitsVoice
from engine.types import Speech
from personas.memory import PersonaMemory
from personas.registry import BUILTIN_DIR
from tests.fakes.models import TinyModels, models_config, speaking
from tests.media import assert_valid_mp4, speech_clip

SIZE = {"width": 128, "height": 128, "fps": 10}
#: The console's answer with a video: "🎬 PATH (DURATION s)" and the caption on the next line, its last lines.
_CONSOLE_VIDEO = re.compile(r"🎬 (?P<path>\S+\.mp4) \(\d+\.\d s\)\n   (?P<caption>.*)\n$", re.DOTALL)


@pytest.fixture(scope="module")
def speaking_models(tiny_models: TinyModels, tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    folder = tmp_path_factory.mktemp("speaking")
    return replace(tiny_models, whisper=speaking(tiny_models.whisper, folder / "whisper"),
                   lm=speaking(tiny_models.lm, folder / "lm"))


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return speech_clip(tmp_path / "hello.wav", "Hi! I like jazz.")


@pytest.fixture
def config(bot_config: Config, speaking_models: TinyModels) -> Config:
    bot_config.models = models_config(speaking_models)
    engine = bot_config.engine
    engine.width, engine.height, engine.fps = SIZE["width"], SIZE["height"], SIZE["fps"]
    bot_config.chat.max_new_tokens = 24  # a sentence or so: short speech, quick renders
    return bot_config


def neural_persona(config: Config, name: str, voice: str, sample: Path | None = None) -> str:
    """A user persona: the friendly one's art and prompt, speaking with the ``voice`` backend
    (cloning ``sample`` when given), the way an operator makes one."""
    folder = config.personas.user_dirs[0] / name
    shutil.copytree(BUILTIN_DIR / "friendly", folder)
    toml = (folder / "persona.toml").read_text(encoding="utf-8")
    toml = toml.replace('name = "friendly"', f'name = "{name}"').replace('display_name = "Pip"',
                                                                         f'display_name = "{name.title()}"')
    voice_table = f'[voice]\nbackend = "{voice}"\n'
    if sample is not None:
        shutil.copy(sample, folder / "voice.wav")
        voice_table += 'sample = "voice.wav"\n'
    (folder / "persona.toml").write_text(toml.replace("[voice]\n", voice_table), encoding="utf-8")
    return name


@dataclass
class Calls:
    """What one model method was called with, and what it returned."""

    args: list[tuple[Any, ...]]
    results: list[Any]


def spy(monkeypatch: pytest.MonkeyPatch, model: object, method: str,
        keep: Callable[[tuple[Any, ...]], tuple[Any, ...]] = lambda args: args) -> Calls:
    """Record every call of ``model.method`` (``keep``: what of its arguments), which still runs."""
    calls = Calls([], [])
    original: Callable[..., Any] = getattr(model, method)

    def recording(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        calls.args.append(keep(args))
        calls.results.append(result)
        return result

    monkeypatch.setattr(model, method, recording)
    return calls


@dataclass
class Pipeline:
    """The agent's loaded models, each stage recorded."""

    recognizer: WhisperRecognizer
    heard: Calls
    replier: CausalLMReplier
    replies: Calls
    spoken: Calls


def watch(agent: Agent, monkeypatch: pytest.MonkeyPatch, voice: str) -> Pipeline:
    models = agent.models
    recognizer, replier = models.get(ASR), models.get(LLM)
    tts = models.get(VITS) if voice == "vits" else models.get(SPEECHT5)
    assert isinstance(recognizer, WhisperRecognizer) and isinstance(replier, CausalLMReplier)
    assert isinstance(tts, VitsVoice if voice == "vits" else SpeechT5Voice)
    # The downloaded clip is deleted once the message is handled: keep its bytes.
    heard = spy(monkeypatch, recognizer, "transcribe", keep=lambda args: (args[0].read_bytes(),))
    return Pipeline(recognizer, heard, replier,
                    spy(monkeypatch, replier, "reply"), spy(monkeypatch, tts, "synthesize"))


def check_one_turn(pipeline: Pipeline, clip: Path, caption: str) -> tuple[str, str, Speech]:
    """Each stage got the previous one's output; returns the transcript, the reply and the speech."""
    [(heard_bytes,)] = pipeline.heard.args
    [transcript] = pipeline.heard.results
    assert heard_bytes == clip.read_bytes()
    assert pipeline.recognizer.transcribe(clip) == transcript  # the same clip straight through Whisper
    heard = " ".join(transcript.split())
    assert heard
    [(messages,)] = pipeline.replies.args
    assert messages[0].role == "system" and messages[-1] == ChatMessage("user", heard)
    [reply] = pipeline.replies.results
    assert reply and re.fullmatch(r"[a-z ]+", reply)  # the model path, not the templates' fallback
    assert caption == f"You said: “{heard}”\n{reply}"
    [(text, _voice)] = pipeline.spoken.args
    [speech] = pipeline.spoken.results
    assert text == reply
    return heard, reply, speech


async def talk_on_the_console(agent: Agent, line: str) -> tuple[str, Path]:
    """Type ``line``; the caption and path of the video the console showed."""
    output = io.StringIO()
    await ConsoleAdapter(agent, stdin=io.StringIO(), console=Console(file=output, width=10_000)).handle_line(line)
    answer = _CONSOLE_VIDEO.search(output.getvalue())
    assert answer is not None, output.getvalue()
    return answer["caption"], Path(answer["path"])


def memory_rows(agent: Agent) -> list[PersonaMemory]:
    with agent.storage.session() as session:
        return list(session.exec(select(PersonaMemory)))


async def test_console_voice_to_vits_video_remembered_across_a_restart_and_forgotten(
        config: Config, clip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    persona = neural_persona(config, "vee", "vits")
    async with Agent(config) as agent:
        pipeline = watch(agent, monkeypatch, "vits")
        caption, video = await talk_on_the_console(agent, f"!talk --persona {persona} {clip}")
        heard, reply, speech = check_one_turn(pipeline, clip, caption)
        assert_valid_mp4(video, **SIZE, duration=speech.duration)
        [memory] = memory_rows(agent)
        assert (memory.persona, memory.platform) == (persona, "console")
        assert [t["text"] for t in memory.turns] == [heard, reply]

    async with Agent(config) as agent:  # a restart: the memory reaches the real model's prompt
        pipeline = watch(agent, monkeypatch, "vits")
        caption, video = await talk_on_the_console(agent, f"!talk --persona {persona} and what about you")
        [(messages,)] = pipeline.replies.args
        assert messages[1:] == [ChatMessage("user", heard), ChatMessage("assistant", reply),
                                ChatMessage("user", "and what about you")]
        [second] = pipeline.replies.results
        assert caption == second
        assert_valid_mp4(video, **SIZE, duration=pipeline.spoken.results[0].duration)

        output = io.StringIO()
        await ConsoleAdapter(agent, stdin=io.StringIO(), console=Console(file=output)).handle_line(
            f"!forget me --persona {persona}")
        assert "Vee forgot everything about you" in output.getvalue()
        assert memory_rows(agent) == []


async def test_console_voice_to_a_cloned_speecht5_voice(config: Config, clip: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    sample = speech_clip(tmp_path / "sample.wav", "This is how I sound when I talk.", "Nice to meet you.", pause=0.5)
    persona = neural_persona(config, "echo", "speecht5", sample=sample)
    async with Agent(config) as agent:
        pipeline = watch(agent, monkeypatch, "speecht5")
        encoder = agent.models.get(SPEAKER_ENCODER)
        assert encoder is not None
        embedded = spy(monkeypatch, encoder, "embed")
        caption, video = await talk_on_the_console(agent, f"!talk --persona {persona} {clip}")
    _heard, _reply, speech = check_one_turn(pipeline, clip, caption)
    [(_text, voice)] = pipeline.spoken.args
    assert voice.sample is not None and voice.sample.read_bytes() == sample.read_bytes()
    assert [args[0] for args in embedded.args] == [voice.sample]
    assert_valid_mp4(video, **SIZE, duration=speech.duration)


async def test_a_telegram_voice_message_to_the_bot_comes_back_as_the_personas_video(
        config: Config, telegram_api: FakeTelegramAPI, clip: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    config.personas.default = neural_persona(config, "vee", "vits")
    recording = voice_recording(clip, tmp_path / "voice.ogg")
    async with running_telegram(telegram_api, config) as telegram:
        pipeline = watch(telegram.agent, monkeypatch, "vits")
        delivered = await telegram.send("", user=MEMBER, files=[recording], private=True)
        [memory] = memory_rows(telegram.agent)
    [video] = [d for d in delivered if d.kind == "video"]
    _heard, reply, speech = check_one_turn(pipeline, recording, video.text)
    assert (memory.persona, memory.platform, memory.turns[-1]["text"]) == ("vee", "telegram", reply)
    [(name, data)] = video.files
    uploaded = tmp_path / name
    uploaded.write_bytes(data)
    with av.open(str(uploaded)) as container:
        streams = {s.type: s.codec_context.name for s in container.streams}
    assert streams == {"video": "h264", "audio": "aac"}
    assert_valid_mp4(uploaded, **SIZE, duration=speech.duration)


async def test_a_long_voice_message_on_telegram_keeps_its_whole_transcript(
        config: Config, telegram_api: FakeTelegramAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config.personas.default = neural_persona(config, "vee", "vits")
    # Five 30 s windows for Whisper: a transcript longer than a Telegram caption may be.
    clip = speech_clip(tmp_path / "long.wav", "Hi! I like jazz.", "And I like cats.", pause=140)
    recording = voice_recording(clip, tmp_path / "long.ogg")
    async with running_telegram(telegram_api, config) as telegram:
        pipeline = watch(telegram.agent, monkeypatch, "vits")
        delivered = await telegram.send("", user=MEMBER, files=[recording], private=True)
    [transcript] = pipeline.heard.results
    [reply] = pipeline.replies.results
    heard = " ".join(transcript.split())
    assert len(f"You said: “{heard}”\n{reply}") > 1024
    [video] = [d for d in delivered if d.kind == "video"]
    after = [d.text for d in delivered if d.kind == "message" and d.text and int(d.message_id) > int(video.message_id)]
    assert len(video.text) <= 1024 and video.files
    assert " ".join([video.text, *after]).split() == f"You said: “{heard}”\n{reply}".split()
