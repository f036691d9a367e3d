"""The model hub's one accessor: declared kinds, loaded lazily and once, ``None`` when not configured.

The kinds here build plain objects, so these tests need no model library; the real kinds are
loaded from tiny saved models in test_asr, test_dialogue, test_neural_tts and test_wav2lip.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.errors import ModelError
from engine.models import ASR, LIPSYNC, LLM, SPEAKER_ENCODER, SPEECHT5, VITS, Model, ModelHub
from engine.settings import ModelSettings


class Built:
    def __init__(self, folders: tuple[Path, ...], device: str) -> None:
        self.folders, self.device = folders, device


class Recorder:
    """A builder that records each build: the folders it got and the thread it ran on."""

    def __init__(self) -> None:
        self.builds: list[tuple[tuple[Path, ...], str]] = []

    def __call__(self, hub: ModelHub, folders: tuple[Path, ...]) -> Built:
        self.builds.append((folders, threading.current_thread().name))
        return Built(folders, hub.settings.device)


def test_a_kind_is_none_until_every_setting_it_needs_is_set(tmp_path: Path) -> None:
    build = Recorder()
    pair: Model[Built] = Model("pair", ("speecht5", "hifigan"), build)
    assert ModelHub(ModelSettings(speecht5=tmp_path / "tts")).get(pair) is None
    hub = ModelHub(ModelSettings(speecht5=tmp_path / "tts", hifigan=tmp_path / "vocoder", device="cpu"))
    model = hub.get(pair)
    assert model is not None and model.folders == (tmp_path / "tts", tmp_path / "vocoder") and model.device == "cpu"
    assert hub.get(pair) is model and len(build.builds) == 1
    assert build.builds == [((tmp_path / "tts", tmp_path / "vocoder"), threading.current_thread().name)]


def test_the_built_in_kinds_declare_the_settings_they_load_from(tmp_path: Path) -> None:
    nothing = ModelSettings()
    assert all(kind.folders(nothing) is None for kind in (ASR, LLM, VITS, SPEECHT5, SPEAKER_ENCODER, LIPSYNC))
    assert SPEECHT5.folders(ModelSettings(speecht5=tmp_path / "tts")) is None  # its vocoder is needed too
    assert SPEECHT5.folders(ModelSettings(speecht5=tmp_path / "tts", hifigan=tmp_path / "gan")) == (
        tmp_path / "tts", tmp_path / "gan")
    assert LIPSYNC.folders(ModelSettings(lipsync=tmp_path / "w.pth")) == (tmp_path / "w.pth",)
    only_spanish = ModelSettings(vits_languages={"es": tmp_path / "spa"})
    assert VITS.folders(only_spanish, "es-MX") == (tmp_path / "spa",) and VITS.folders(only_spanish, "en") is None


def test_a_kind_by_language_loads_one_model_per_folder(tmp_path: Path) -> None:
    build = Recorder()
    voice: Model[Built] = Model("voice", ("vits",), build, by_language=True)
    languages = {"es": tmp_path / "spa", "fr": tmp_path / "eng"}
    hub = ModelHub(ModelSettings(vits=tmp_path / "eng", vits_languages=languages))
    spanish, english = hub.get(voice, "es"), hub.get(voice, "en")
    assert spanish is not None and spanish.folders == (tmp_path / "spa",)
    assert english is not None and english.folders == (tmp_path / "eng",)
    assert hub.get(voice, "fr") is english and hub.get(voice) is english  # the same folder: the same model
    assert [folders for folders, _ in build.builds] == [(tmp_path / "spa",), (tmp_path / "eng",)]


def test_first_requests_at_the_same_time_load_a_model_once() -> None:
    entered, release = threading.Event(), threading.Event()
    builds: list[object] = []

    def slow_build(hub: ModelHub, folders: tuple[Path, ...]) -> object:
        entered.set()
        assert release.wait(10)  # hold the load until every other request has asked
        builds.append(object())
        return builds[-1]

    kind: Model[object] = Model("slow", ("asr",), slow_build)
    hub = ModelHub(ModelSettings(asr=Path("models/asr")))
    got: list[object] = []
    first = threading.Thread(target=lambda: got.append(hub.get(kind)))
    first.start()
    assert entered.wait(10)
    others = [threading.Thread(target=lambda: got.append(hub.get(kind))) for _ in range(4)]
    for thread in others:
        thread.start()
    release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert len(builds) == 1 and got == builds * 5


def test_a_failed_load_names_its_setting_and_is_tried_again_on_the_next_request() -> None:
    attempts: list[int] = []

    def broken_then_fixed(hub: ModelHub, folders: tuple[Path, ...]) -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise ModelError(f'[models] asr = "{folders[0]}": the model there could not be loaded (broken).')
        return "loaded"

    hub = ModelHub(ModelSettings(asr=Path("models/asr")))
    kind: Model[str] = Model("flaky", ("asr",), broken_then_fixed)
    with pytest.raises(ModelError, match=r'\[models\] asr = "models/asr"'):
        hub.get(kind)
    assert hub.get(kind) == "loaded" and hub.get(kind) == "loaded" and len(attempts) == 2


def test_models_given_to_the_hub_are_used_whatever_the_settings_say(tmp_path: Path) -> None:
    class Recognizer:
        def transcribe(self, audio_path: Path) -> str:
            return "hello"

    class Replier:
        def reply(self, messages: Any, *, max_new_tokens: int, timeout: float) -> str:
            return "hi"

    recognizer, replier = Recognizer(), Replier()
    hub = ModelHub(ModelSettings(llm=tmp_path / "not-a-model"), recognizer=recognizer, replier=replier)
    assert hub.get(ASR) is recognizer and hub.get(LLM) is replier  # nothing is loaded from tmp_path
    assert ModelHub(ModelSettings(), replier=replier).get(ASR) is None


async def test_load_builds_the_model_on_a_model_thread() -> None:
    build = Recorder()
    kind: Model[Built] = Model("threaded", ("asr",), build)
    hub = ModelHub(ModelSettings(asr=Path("models/asr")))
    model = await hub.load(kind)
    assert model is not None and model is hub.get(kind)
    [(_, thread)] = build.builds
    assert thread.startswith("models") and thread != threading.current_thread().name


def test_renders_use_the_shared_lip_sync_model_when_the_hub_is_given_one(tmp_path: Path) -> None:
    class Shared:
        def submit(self, mels: np.ndarray, faces: np.ndarray, *, priority: int = 0) -> Any:
            raise NotImplementedError

        def cancel(self, ticket: Any) -> None:
            raise NotImplementedError

    made: list[ModelSettings] = []

    def shared(settings: ModelSettings) -> Shared:
        made.append(settings)
        return Shared()

    settings = ModelSettings(lipsync=tmp_path / "wav2lip.pth")
    hub = ModelHub(settings, shared_lipsync=shared)
    batcher = hub.face_batcher()
    assert isinstance(batcher, Shared) and hub.face_batcher() is batcher and made == [settings]
    assert ModelHub(ModelSettings(), shared_lipsync=shared).face_batcher() is None and len(made) == 1


def test_cloning_needs_three_models() -> None:
    assert ModelHub(ModelSettings()).missing_for_cloning() == ["speecht5", "hifigan", "speaker_encoder"]
    ready = ModelSettings(speecht5=Path("a"), hifigan=Path("b"), speaker_encoder=Path("c"))
    assert ModelHub(ready).missing_for_cloning() == []
