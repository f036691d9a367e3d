"""Whisper speech recognition from a local folder: tiny random Whisper, loaded through the product's code."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from engine.audio import write_wav
from engine.errors import AudioInputError, ModelError
from engine.models import ASR, ModelHub
from engine.models.asr import WhisperRecognizer
from engine.settings import ModelSettings
from engine.types import SAMPLE_RATE
from tests.fakes.models import TinyModels, models_config
from tests.media import speech_clip


@pytest.fixture(scope="module")
def recognizer(tiny_whisper: Path) -> WhisperRecognizer:
    return WhisperRecognizer(tiny_whisper, "cpu", max_new_tokens=8)


def test_the_hub_loads_the_configured_model_once(tiny_models: TinyModels) -> None:
    hub = ModelHub(models_config(tiny_models))
    assert isinstance(hub.get(ASR), WhisperRecognizer)
    assert hub.get(ASR) is hub.get(ASR)
    assert ModelHub(ModelSettings()).get(ASR) is None


def test_transcribes_a_clip_to_text_deterministically(recognizer: WhisperRecognizer, tmp_path: Path) -> None:
    clip = speech_clip(tmp_path / "hello.wav", "Hello there, how are you?")
    text = recognizer.transcribe(clip)
    assert isinstance(text, str) and text == text.strip()
    assert recognizer.transcribe(clip) == text
    assert next(recognizer.model.parameters()).device.type == "cpu"


def test_clips_over_30_seconds_are_transcribed_in_chunks(recognizer: WhisperRecognizer, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    clip = write_wav(tmp_path / "long.wav", (0.2 * rng.standard_normal(35 * SAMPLE_RATE)).astype(np.float32))
    batches: list[tuple[int, ...]] = []
    generate = recognizer.model.generate

    def recording_generate(features, **kwargs):  # type: ignore[no-untyped-def]
        batches.append(tuple(features.shape))
        assert kwargs["max_new_tokens"] == 8
        return generate(features, **kwargs)

    monkeypatch.setattr(recognizer.model, "generate", recording_generate)
    assert isinstance(recognizer.transcribe(clip), str)
    assert batches == [(2, 80, 3000)]


def test_a_silent_clip_gets_the_audio_message(recognizer: WhisperRecognizer, tmp_path: Path) -> None:
    clip = write_wav(tmp_path / "silence.wav", np.zeros(SAMPLE_RATE, dtype=np.float32))
    with pytest.raises(AudioInputError, match="silent"):
        recognizer.transcribe(clip)


def test_a_missing_folder_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"\[models\] asr = .*does not exist"):
        ModelHub(ModelSettings(asr=tmp_path / "nowhere", device="cpu")).get(ASR)


def test_a_folder_of_another_model_is_refused(tiny_models: TinyModels) -> None:
    with pytest.raises(ModelError, match=r"\[models\] asr = .*'gpt2' model, not a Whisper model"):
        WhisperRecognizer(tiny_models.lm, "cpu")


def test_a_broken_model_folder_names_the_setting(tiny_whisper: Path, tmp_path: Path) -> None:
    broken = Path(shutil.copytree(tiny_whisper, tmp_path / "whisper"))
    (broken / "model.safetensors").write_bytes(b"not weights")
    with pytest.raises(ModelError, match=r"\[models\] asr = .*could not be loaded"):
        WhisperRecognizer(broken, "cpu")


def test_cuda_asked_for_without_a_gpu_is_a_clear_error(tiny_whisper: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ModelError, match="no CUDA device"):
        WhisperRecognizer(tiny_whisper, "cuda")
