"""Real media made inside the tests: speech clips, and checks of the MP4s we render."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import TYPE_CHECKING
from unittest.mock import patch

import av
import numpy as np

from engine.audio import write_wav
from engine.encode import probe
from engine.engine import CancelToken
from engine.tts import synthesize
from engine.types import SAMPLE_RATE, VoiceSettings

if TYPE_CHECKING:
    from engine.pipeline import Pipeline, Plan
    from engine.types import RenderRequest


def speech(text: str) -> np.ndarray:
    return synthesize(text, VoiceSettings(language="en-gb", variant="m1")).samples


def speech_clip(path: Path, *parts: str, pause: float = 1.5) -> Path:
    """Spoken ``parts`` with ``pause`` seconds of silence between them, as a WAV file."""
    gap = np.zeros(int(pause * SAMPLE_RATE), np.float32)
    pieces: list[np.ndarray] = []
    for i, text in enumerate(parts):
        if i:
            pieces.append(gap)
        pieces.append(speech(text))
    return write_wav(path, np.concatenate(pieces))


def wav_duration(path: Path) -> float:
    with wave.open(str(path)) as clip:
        return clip.getnframes() / clip.getframerate()


def assert_valid_mp4(path: Path, *, width: int, height: int, fps: int, duration: float | None = None) -> None:
    """An H.264 and an AAC stream, the size and rate asked for, and video as long as audio.

    The audio's length is the container's (its edit list trims the AAC encoder's
    padding, which decoding alone would count); the video's is its decoded frames.
    """
    info = probe(path)
    assert (info["video_codec"], info["audio_codec"]) == ("h264", "aac")
    assert (info["width"], info["height"], info["fps"]) == (width, height, fps)
    with av.open(str(path)) as container:
        video_seconds = sum(1 for _ in container.decode(video=0)) / fps
    assert abs(video_seconds - info["audio_duration"]) <= 1 / fps, (video_seconds, info["audio_duration"])
    if duration is not None:
        assert abs(video_seconds - duration) <= 1 / fps, (video_seconds, duration)


def decode_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def render_with_its_plan(pipeline: Pipeline, request: RenderRequest, out: Path) -> tuple[Plan, list[np.ndarray]]:
    """The decoded frames, with the plan the render itself made: espeak-ng's timing can differ
    by a few milliseconds between two syntheses of the same text, so a second plan might not match."""
    plans: list[Plan] = []
    planner = pipeline.plan

    def recording(request: RenderRequest) -> Plan:
        plans.append(planner(request))
        return plans[-1]

    with patch.object(pipeline, "plan", recording):
        pipeline(request, out, lambda stage, done, total: None, CancelToken())
    return plans[0], decode_frames(out)
