"""Whisper's log-mel features by torch.stft match WhisperFeatureExtractor's own numpy recipe."""

from __future__ import annotations

import numpy as np
import pytest
from transformers import WhisperFeatureExtractor

from engine.models.asr_features import CHUNK_FRAMES, CHUNK_SAMPLES, log_mel, split_chunks
from engine.types import SAMPLE_RATE
from tests.media import speech


@pytest.fixture(scope="module")
def extractor() -> WhisperFeatureExtractor:
    return WhisperFeatureExtractor(feature_size=80)


def reference(extractor: WhisperFeatureExtractor, clip: np.ndarray) -> np.ndarray:
    """The extractor's numpy path, on the clip zero-padded or cut to 30 s as its __call__ does."""
    padded = np.zeros((1, CHUNK_SAMPLES), dtype=np.float32)
    padded[0, : min(len(clip), CHUNK_SAMPLES)] = clip[:CHUNK_SAMPLES]
    return extractor._np_extract_fbank_features(padded, "cpu")


def test_speech_features_match_the_feature_extractor(extractor: WhisperFeatureExtractor) -> None:
    clip = speech("Hello there, how are you today?")
    ours = log_mel([clip], extractor.mel_filters).numpy()
    assert ours.shape == (1, 80, CHUNK_FRAMES) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, reference(extractor, clip), atol=1e-4)


def test_clips_over_30_seconds_are_cut_and_a_batch_equals_its_clips(extractor: WhisperFeatureExtractor) -> None:
    rng = np.random.default_rng(1)
    long_clip = (0.1 * rng.standard_normal(CHUNK_SAMPLES + 2 * SAMPLE_RATE)).astype(np.float32)
    short_clip = speech("Short.")
    batch = log_mel([long_clip, short_clip], extractor.mel_filters).numpy()
    np.testing.assert_allclose(batch[0], reference(extractor, long_clip)[0], atol=1e-4)
    np.testing.assert_allclose(batch[1], reference(extractor, short_clip)[0], atol=1e-4)


def test_long_clips_split_into_30_second_chunks() -> None:
    samples = np.ones(CHUNK_SAMPLES * 2 + 5, dtype=np.float32)
    assert [len(chunk) for chunk in split_chunks(samples)] == [CHUNK_SAMPLES, CHUNK_SAMPLES, 5]
    assert [len(chunk) for chunk in split_chunks(np.zeros(0, dtype=np.float32))] == [0]
