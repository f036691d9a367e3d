"""Neural models the operator supplies, loaded once per process and shared by every plugin.

``hub.get(kind)`` returns ``None`` when the kind's model is not configured, so callers take the
model-free default path. Models load lazily, on first use, once: start-up stays quick, a
configured model nobody uses costs no memory, and a broken folder is reported (as a
``ModelError`` naming the setting) to the request that needs it instead of stopping the agent.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar, cast

from engine.models.kinds import ASR, LIPSYNC, LLM, SPEECHT5, VITS, FaceBatcher, Model, Replier, SpeechRecognizer
from engine.settings import CLONING_MODELS, ModelSettings

if TYPE_CHECKING:
    from engine.backends import Backends

T = TypeVar("T")

#: Threads for model work (loading, transcribing, replying). Apart from the default pool, so members
#: waiting for a busy model never hold up anyone else's quick work; each model still serves one call at a time.
MODEL_THREADS = 16


class ModelHub:
    """Models given here are used as they are, whatever the settings say (tests, embedders)."""

    def __init__(self, settings: ModelSettings, *, recognizer: SpeechRecognizer | None = None,
                 replier: Replier | None = None,
                 shared_lipsync: Callable[[ModelSettings], FaceBatcher] | None = None) -> None:
        """``shared_lipsync``: where renders get their lip-sync model from when it is not this process's
        (a Ray cluster's worker: the cluster's shared actor)."""
        self.settings = settings
        self._shared_lipsync = shared_lipsync
        given: dict[Model[Any], Any] = {ASR: recognizer, LLM: replier}
        self._given = {kind.name: model for kind, model in given.items() if model is not None}
        self._loaded: dict[tuple[object, ...], Any] = {}
        self._loading = threading.Lock()
        self._threads = ThreadPoolExecutor(MODEL_THREADS, thread_name_prefix="models")  # threads start on demand

    def get(self, kind: Model[T], language: str | None = None) -> T | None:
        """``kind``'s model (for ``language``, where the kind has a folder per language), loaded on the first
        call; ``None`` when its settings are not all set. Loading blocks: from async code, ``await load(kind)``."""
        if kind.name in self._given:
            return cast(T, self._given[kind.name])
        folders = kind.folders(self.settings, language)
        if folders is None:
            return None
        # Keyed by folder too: two languages spoken by one folder share its model.
        return self._once((kind.name, *folders), lambda: kind.build(self, folders))

    async def load(self, kind: Model[T], language: str | None = None) -> T | None:
        """``get(kind, language)`` on a model thread: the first call loads the model without blocking the loop."""
        return await self.run(functools.partial(self.get, kind, language))

    async def run(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``call(*args, **kwargs)`` on a model thread: for loading a model or any call that runs one."""
        import asyncio  # not at the top: the CLI's one-shot renders never await

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, functools.partial(call, *args, **kwargs))

    def face_batcher(self) -> FaceBatcher | None:
        """What the "wav2lip" renderer sends its face crops to: the ``LIPSYNC`` model, or the shared one it
        stands for."""
        if self.settings.lipsync is None or self._shared_lipsync is None:
            return self.get(LIPSYNC)
        shared = self._shared_lipsync
        return self._once(("shared", LIPSYNC.name), lambda: shared(self.settings))

    def missing_for_cloning(self) -> list[str]:
        """The ``[models]`` keys voice cloning still needs (empty when it is ready)."""
        return [key for key in CLONING_MODELS if getattr(self.settings, key) is None]

    def register_backends(self, backends: Backends) -> None:
        """Add the neural "tts" backends (``vits``, ``speecht5``) and the "wav2lip" renderer. They are registered
        even when their models are not configured, so a persona that names one gets a message saying what to
        configure."""
        from engine.face.backends import Wav2LipBackend
        from engine.models.voice_backend import NeuralVoice

        backends.register("tts", VITS.name, NeuralVoice(self, VITS))
        backends.register("tts", SPEECHT5.name, NeuralVoice(self, SPEECHT5))
        backends.register("renderer", "wav2lip", Wav2LipBackend(self))

    def _once(self, key: tuple[object, ...], build: Callable[[], T]) -> T:
        if key in self._loaded:
            return cast(T, self._loaded[key])
        with self._loading:  # one load at a time: two first requests must not load a model twice
            if key not in self._loaded:
                self._loaded[key] = build()
            return cast(T, self._loaded[key])
