"""The lips in the rendered MP4 follow the speech: checked on decoded video frames.

Each check compares a decoded frame with two renderings of the same instant that
differ only in the mouth (same head offset, eyes, expression): the frame must be
nearer to the mouth the speech calls for.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from engine.backends import Backends
from engine.pipeline import Pipeline
from engine.settings import EngineSettings
from engine.sprite import SpriteRenderer
from engine.timeline import viseme_for
from engine.types import SAMPLE_RATE, MotionFrame, RenderRequest, Viseme
from personas.registry import PersonaRegistry
from tests.media import render_with_its_plan, speech, speech_clip

FPS = 25
SIZE = 256


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline(EngineSettings(), PersonaRegistry(), Backends.with_defaults())



def with_mouth(motion: MotionFrame, shape: Viseme) -> MotionFrame:
    return replace(motion, mouth=shape, mouth_next=shape, mouth_blend=0.0)


@cache
def rgb_renderer(sprite_dir: Path, background: str) -> SpriteRenderer:
    """The pipeline's renderer draws yuv420p; the references are RGB, like the decoded frames."""
    return SpriteRenderer(sprite_dir, SIZE, SIZE, background)


def nearer_to(frame: np.ndarray, pipeline: Pipeline, wanted: MotionFrame, other: MotionFrame) -> bool:
    """Is the decoded ``frame`` nearer to ``wanted``'s mouth than to ``other``'s?"""
    persona = pipeline.personas.get("friendly")
    renderer = rgb_renderer(persona.sprite_dir, persona.background)
    wanted_image, other_image = (renderer.render(m).astype(int) for m in (wanted, other))
    mouth = np.abs(wanted_image - other_image).sum(axis=2) > 30  # the pixels where the two mouths differ
    assert mouth.sum() > 50, "the two mouth shapes should look different"
    frame = frame.astype(int)
    return np.abs(frame - wanted_image)[mouth].mean() < np.abs(frame - other_image)[mouth].mean()


def test_text_closes_the_lips_on_m_b_p_and_opens_them_on_vowels(pipeline: Pipeline, tmp_path: Path) -> None:
    request = RenderRequest(persona="friendly", text="Mama bought a map. Papa made a bomb.",
                            width=SIZE, height=SIZE, fps=FPS)
    plan, frames = render_with_its_plan(pipeline, request, tmp_path / "text.mp4")
    assert plan.timeline.source == "phonemes"
    phonemes = plan.speech.phonemes
    closed = opened = 0
    for event, following in zip(phonemes, phonemes[1:]):
        index = int((event.time + following.time) / 2 * FPS)
        if following.time - event.time < 2 / FPS or index >= len(frames):
            continue  # a shape held for one frame only is smeared by the lossy encoder
        shape = viseme_for(event.phoneme)
        if shape == Viseme.MBP:
            motion = plan.track[index]
            assert nearer_to(frames[index], pipeline, with_mouth(motion, Viseme.MBP),
                             with_mouth(motion, Viseme.AI)), event
            closed += 1
        elif shape == Viseme.AI:
            motion = plan.track[index]
            assert nearer_to(frames[index], pipeline, with_mouth(motion, Viseme.AI),
                             with_mouth(motion, Viseme.MBP)), event
            opened += 1
    assert closed >= 3 and opened >= 3


def test_a_voice_clip_moves_the_lips_and_rests_them_in_a_pause(pipeline: Pipeline, tmp_path: Path) -> None:
    first, second = "Hello there, how are you today?", "I am fine, thank you very much."
    clip = speech_clip(tmp_path / "voice.wav", first, second, pause=1.5)
    request = RenderRequest(persona="friendly", audio_path=clip, width=SIZE, height=SIZE, fps=FPS)
    plan, frames = render_with_its_plan(pipeline, request, tmp_path / "voice.mp4")
    assert plan.timeline.source == "audio"

    pause_start = len(speech(first)) / SAMPLE_RATE
    pause = range(int((pause_start + 0.2) * FPS), int((pause_start + 1.3) * FPS))
    for i in pause:
        rest = with_mouth(plan.track[i], Viseme.REST)
        assert nearer_to(frames[i], pipeline, rest, with_mouth(plan.track[i], Viseme.AI)), i

    talking = [i for i, m in enumerate(plan.track) if {m.mouth, m.mouth_next}.isdisjoint({Viseme.REST, Viseme.MBP})]
    assert len(talking) >= 30
    moving = [i for i in talking
              if nearer_to(frames[i], pipeline, plan.track[i], with_mouth(plan.track[i], Viseme.REST))]
    assert len(moving) >= 0.9 * len(talking)
