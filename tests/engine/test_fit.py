"""Re-encoding a video to fit an upload limit, checked with PyAV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.encode import encode_mp4, probe
from engine.fit import VideoTooLargeError, fit_to_limit
from tests.media import assert_valid_mp4

FPS = 25


@pytest.fixture(scope="module")
def noisy_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two seconds of noise: about the hardest picture there is to compress."""
    rng = np.random.default_rng(7)
    frames = (rng.integers(0, 256, (128, 128, 3), dtype=np.uint8) for _ in range(2 * FPS))
    tone = (0.3 * np.sin(np.arange(2 * 16_000) * 2 * np.pi * 220 / 16_000)).astype(np.float32)
    path = tmp_path_factory.mktemp("fit") / "noise.mp4"
    encode_mp4(frames, tone, 16_000, fps=FPS, width=128, height=128, out_path=path, crf=18)
    return path


def test_a_video_within_the_limit_is_left_alone(noisy_video: Path) -> None:
    assert fit_to_limit(noisy_video, noisy_video.stat().st_size) == noisy_video


@pytest.mark.parametrize("fraction", [0.5, 0.1])
def test_an_oversized_video_is_reencoded_to_fit(noisy_video: Path, fraction: float) -> None:
    limit = int(noisy_video.stat().st_size * fraction)
    fitted = fit_to_limit(noisy_video, limit)
    assert fitted != noisy_video and fitted.stat().st_size <= limit
    info = probe(fitted)
    assert info["width"] <= 128 and info["width"] % 2 == 0
    assert_valid_mp4(fitted, width=info["width"], height=info["height"], fps=FPS, duration=2.0)
    assert info["audio_duration"] == pytest.approx(probe(noisy_video)["audio_duration"])


def test_a_limit_nothing_fits_is_said_plainly(noisy_video: Path) -> None:
    with pytest.raises(VideoTooLargeError, match=r"does not fit the upload limit of 4 kB"):
        fit_to_limit(noisy_video, 4_000)
    assert not any("fit-4000" in p.name for p in noisy_video.parent.iterdir())
