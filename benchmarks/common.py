"""What the platform benchmarks share: a throw-away config with the members' rate limits off,
since the benchmarks send one command after another as the same member on purpose."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.config import Config, LimitSettings
from core.testing.testbot import test_config
from engine.audio import write_wav
from engine.types import SAMPLE_RATE
from tests.media import speech

CLIP_SECONDS = 5


def benchmark_config(folder: Path) -> Config:
    config = test_config(folder)
    config.limits = LimitSettings(user_per_minute=0, server_per_minute=0, user_concurrent_jobs=0)
    return config


def five_second_clips(folder: Path, count: int) -> list[Path]:
    """``count`` WAV files of 5 s of speech, each a little different so the render cache never answers."""
    words = speech("Hello everyone, this is a five second voice clip for the benchmark, thank you.")
    samples = np.zeros(CLIP_SECONDS * SAMPLE_RATE, np.float32)
    samples[: min(len(words), len(samples))] = words[: len(samples)]
    clips = []
    for number in range(count):
        varied = samples.copy()
        varied[-1] = number * 1e-4
        clips.append(write_wav(folder / f"clip-{number}.wav", varied))
    return clips
