"""Neural models the operator supplies, loaded once per process and shared by every plugin.

Each accessor returns ``None`` when its model is not configured, so callers take the
model-free default path. Models load lazily, on first use, once: start-up stays quick, a
configured model nobody uses costs no memory, and a broken folder is reported (as a
``ModelError`` naming the setting) to the request that needs it instead of stopping the agent.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from engine.errors import ModelNotConfiguredError
from engine.settings import CLONING_MODELS, ModelSettings

if TYPE_CHECKING:
    from engine.backends import Backends
    from engine.lipsync.batcher import LipSyncBatcher
    from engine.lipsync.render import FaceBatcher
    from engine.neural_tts import SpeechT5Voice, VitsVoice
    from engine.speakers import SpeakerEncoder
    from engine.types import Speech, VoiceSettings

T = TypeVar("T")

#: The "tts" backend that speaks with a voice sample (a persona's ``[voice] sample``, a member's ``!voice``).
CLONING_BACKEND = "speecht5"
#: Threads for model work (loading, transcribing, replying). Apart from the default pool, so members
#: waiting for a busy model never hold up anyone else's quick work; each model still serves one call at a time.
MODEL_THREADS = 16


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system", "user" or "assistant", as chat templates expect
    content: str


class SpeechRecognizer(Protocol):
    def transcribe(self, audio_path: Path) -> str:
        """The words spoken in an audio file (blocking; call it from a worker thread)."""


class Replier(Protocol):
    def reply(self, messages: Sequence[ChatMessage], *, max_new_tokens: int, timeout: float) -> str:
        """The assistant's next message (blocking); stops generating after ``timeout`` seconds."""


class ModelHub:
    """Models given here are used as they are, whatever the settings say (tests, embedders)."""

    def __init__(self, settings: ModelSettings, *, recognizer: SpeechRecognizer | None = None,
                 replier: Replier | None = None,
                 shared_lipsync: Callable[[ModelSettings], FaceBatcher] | None = None) -> None:
        """``shared_lipsync``: where renders get their lip-sync model from when it is not this process's
        (a Ray cluster's worker: the cluster's shared actor)."""
        self.settings = settings
        self._shared_lipsync = shared_lipsync
        given = {"asr": recognizer, "llm": replier}
        self._loaded: dict[str, Any] = {key: model for key, model in given.items() if model is not None}
        self._loading = threading.Lock()
        self._threads = ThreadPoolExecutor(MODEL_THREADS, thread_name_prefix="models")  # threads start on demand

    async def run(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``call(*args, **kwargs)`` on a model thread: for loading a model or any call that runs one."""
        import asyncio  # not at the top: the CLI's one-shot renders never await

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, functools.partial(call, *args, **kwargs))

    def recognizer(self) -> SpeechRecognizer | None:
        if "asr" in self._loaded:
            return self._loaded["asr"]
        if self.settings.asr is None:
            return None
        from engine.asr import WhisperRecognizer

        return self._once("asr", lambda: WhisperRecognizer(self.settings.asr, self.settings.device))  # type: ignore[arg-type]

    def replier(self) -> Replier | None:
        if "llm" in self._loaded:
            return self._loaded["llm"]
        if self.settings.llm is None:
            return None
        from engine.dialogue import CausalLMReplier

        return self._once("llm", lambda: CausalLMReplier(self.settings.llm, self.settings.device))  # type: ignore[arg-type]

    def vits(self, language: str | None = None) -> VitsVoice | None:
        """The VITS voice of ``language`` (``[models.vits_languages]``), else the one of ``[models] vits``."""
        folder = self.vits_folder(language)
        if folder is None:
            return None
        from engine.neural_tts import VitsVoice

        key = "vits" if folder == self.settings.vits else f"vits:{folder}"
        return self._once(key, lambda: VitsVoice(folder, self.settings.device))

    def vits_folder(self, language: str | None) -> Path | None:
        from engine.languages import ALIASES

        by_language = {ALIASES.get(code.lower(), code.lower()): folder
                       for code, folder in self.settings.vits_languages.items()}
        lower = (language or "").lower()
        return by_language.get(lower) or by_language.get(lower.split("-")[0]) or self.settings.vits

    def speecht5(self) -> SpeechT5Voice | None:
        """SpeechT5 with its vocoder (both must be configured), cloning through ``speaker_encoder()``."""
        if self.settings.speecht5 is None or self.settings.hifigan is None:
            return None
        from engine.neural_tts import SpeechT5Voice

        return self._once("speecht5", lambda: SpeechT5Voice(
            self.settings.speecht5, self.settings.hifigan, self.settings.device,  # type: ignore[arg-type]
            speaker_encoder=self.speaker_encoder))

    def speaker_encoder(self) -> SpeakerEncoder | None:
        if self.settings.speaker_encoder is None:
            return None
        from engine.speakers import SpeakerEncoder

        return self._once("speaker_encoder",
                          lambda: SpeakerEncoder(self.settings.speaker_encoder, self.settings.device))  # type: ignore[arg-type]

    def lipsync(self) -> LipSyncBatcher | None:
        """The Wav2Lip model of ``[models] lipsync`` behind the batcher every render shares."""
        path = self.settings.lipsync
        if path is None:
            return None

        def build() -> LipSyncBatcher:
            from engine.devices import resolve_device
            from engine.lipsync.batcher import LipSyncBatcher
            from engine.lipsync.model import load_wav2lip

            return LipSyncBatcher(load_wav2lip(path), resolve_device(self.settings.device),
                                  precision=self.settings.lipsync_precision)

        return self._once("lipsync", build)

    def face_batcher(self) -> FaceBatcher | None:
        """What the "wav2lip" renderer sends its face crops to: ``lipsync()``, or the shared model it stands for."""
        if self.settings.lipsync is None or self._shared_lipsync is None:
            return self.lipsync()
        shared = self._shared_lipsync
        return self._once("shared_lipsync", lambda: shared(self.settings))

    def missing_for_cloning(self) -> list[str]:
        """The ``[models]`` keys voice cloning still needs (empty when it is ready)."""
        return [key for key in CLONING_MODELS if getattr(self.settings, key) is None]

    def register_backends(self, backends: Backends) -> None:
        """Add the neural "tts" backends (``vits``, ``speecht5``) and the "wav2lip" renderer. They are registered
        even when their models are not configured, so a persona that names one gets a message saying what to
        configure."""
        from engine.lipsync.backend import Wav2LipBackend

        backends.register("tts", "vits", NeuralVoice(self, "vits"))
        backends.register("tts", "speecht5", NeuralVoice(self, "speecht5"))
        backends.register("renderer", "wav2lip", Wav2LipBackend(self))

    def _once(self, key: str, build: Callable[[], T]) -> T:
        if key in self._loaded:
            return self._loaded[key]
        with self._loading:  # one load at a time: two first requests must not load a model twice
            if key not in self._loaded:
                self._loaded[key] = build()
            return self._loaded[key]


#: What each neural voice needs configured, for the message when it is not.
_VOICE_NEEDS = {
    "vits": ("vits", "a VITS / MMS-TTS model folder"),
    "speecht5": ("speecht5 and hifigan", "a SpeechT5 text-to-speech folder and its HiFi-GAN vocoder folder"),
}


class NeuralVoice:
    """The "tts" backend callable ``(text, voice) -> Speech`` for one neural voice of the hub."""

    def __init__(self, hub: ModelHub, name: str) -> None:
        self.hub, self.name = hub, name

    @property
    def fingerprint(self) -> str:
        """Changes when the voice's model folders or the device change: part of the render cache key."""
        from engine.loading import folder_fingerprint

        settings = self.hub.settings
        folders = ([settings.vits, *settings.vits_languages.values()] if self.name == "vits"
                   else [settings.speecht5, settings.hifigan, settings.speaker_encoder])
        return f"{self.name}:{settings.device}:{folder_fingerprint(*folders)}"

    def __call__(self, text: str, voice: VoiceSettings) -> Speech:
        model = self.hub.vits(voice.language) if self.name == "vits" else self.hub.speecht5()
        if model is None:
            keys, what = _VOICE_NEEDS[self.name]
            raise ModelNotConfiguredError(
                f"This persona speaks with the {self.name} voice, which isn't set up here: the operator has to set "
                f"[models] {keys} in config.toml to {what} (see the README's Models section), or give the persona "
                "another [voice] backend such as \"espeak\"."
            )
        return model.synthesize(text, voice)
