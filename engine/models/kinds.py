"""The kinds of model the hub serves: what each is to its callers, and how each is built.

A kind is declared once, as a ``Model``: the ``[models]`` settings it is built from and a
builder that makes it from their folders. ``ModelHub.get(kind)`` is then the one way to get
any of them. Builders import their model libraries when they run, never at import time, so
importing this module (as the CLI's render path does) costs no torch or transformers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from engine.settings import ModelSettings

if TYPE_CHECKING:
    import numpy as np

    from engine.models.hub import ModelHub
    from engine.models.lipsync.batcher import LipSyncBatcher
    from engine.models.speakers import SpeakerEncoder
    from engine.models.voices import SpeechT5Voice, VitsVoice

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


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


class FaceTicket(Protocol):
    def result(self) -> np.ndarray:
        """The request's mouths, (n, 96, 96, 3) uint8 BGR (blocks until they are made)."""


class FaceBatcher(Protocol):
    """What the "wav2lip" renderer needs of the lip-sync model: ``LipSyncBatcher`` in-process, or its
    client on a Ray cluster (``ClusterBatcher``)."""

    def submit(self, mels: np.ndarray, faces: np.ndarray, *, priority: int = 0) -> FaceTicket: ...

    def cancel(self, ticket: Any) -> None: ...


#: Builds a model from its folders (in the order of ``Model.keys``) with the hub's settings; it may ask
#: the hub for the other models it works with.
Builder = Callable[["ModelHub", tuple[Path, ...]], T]


@dataclass(frozen=True, eq=False)
class Model(Generic[T_co]):
    """One kind of model. ``name``: its own, unique (the cache key, the backend's name). ``keys``: the ``[models]``
    settings it is built from, all of which must be set. ``by_language``: its one folder is instead the language's
    in ``[models.vits_languages]`` when listed there, else its key's."""

    name: str
    keys: tuple[str, ...]
    build: Builder[T_co]
    by_language: bool = False

    def folders(self, settings: ModelSettings, language: str | None = None) -> tuple[Path, ...] | None:
        """The folders (or files) this kind loads from for ``language``; ``None`` when not all are configured."""
        if self.by_language:
            chosen: tuple[Path | None, ...] = (language_folder(settings, language),)
        else:
            chosen = tuple(getattr(settings, key) for key in self.keys)
        present = tuple(folder for folder in chosen if folder is not None)
        return present if len(present) == len(chosen) else None


def language_folder(settings: ModelSettings, language: str | None) -> Path | None:
    """The VITS folder of ``language`` (``[models.vits_languages]``, by its code or base language), else
    the one of ``[models] vits``."""
    from engine.languages import ALIASES

    by_language = {ALIASES.get(code.lower(), code.lower()): folder
                   for code, folder in settings.vits_languages.items()}
    lower = (language or "").lower()
    return by_language.get(lower) or by_language.get(lower.split("-")[0]) or settings.vits


def _whisper(hub: ModelHub, folders: tuple[Path, ...]) -> SpeechRecognizer:
    from engine.models.asr import WhisperRecognizer

    return WhisperRecognizer(folders[0], hub.settings.device)


def _causal_lm(hub: ModelHub, folders: tuple[Path, ...]) -> Replier:
    from engine.models.dialogue import CausalLMReplier

    return CausalLMReplier(folders[0], hub.settings.device)


def _vits(hub: ModelHub, folders: tuple[Path, ...]) -> VitsVoice:
    from engine.models.voices import VitsVoice

    return VitsVoice(folders[0], hub.settings.device)


def _speecht5(hub: ModelHub, folders: tuple[Path, ...]) -> SpeechT5Voice:
    from engine.models.voices import SpeechT5Voice

    model, vocoder = folders
    # The encoder loads when a voice sample first needs it: a persona without one never waits for it.
    return SpeechT5Voice(model, vocoder, hub.settings.device, speaker_encoder=lambda: hub.get(SPEAKER_ENCODER))


def _speaker_encoder(hub: ModelHub, folders: tuple[Path, ...]) -> SpeakerEncoder:
    from engine.models.speakers import SpeakerEncoder

    return SpeakerEncoder(folders[0], hub.settings.device)


def _lipsync(hub: ModelHub, folders: tuple[Path, ...]) -> LipSyncBatcher:
    from engine.models.devices import resolve_device
    from engine.models.lipsync.batcher import LipSyncBatcher
    from engine.models.lipsync.model import load_wav2lip

    return LipSyncBatcher(load_wav2lip(folders[0]), resolve_device(hub.settings.device),
                          precision=hub.settings.lipsync_precision)


#: Speech → text (Whisper).
ASR: Model[SpeechRecognizer] = Model("asr", ("asr",), _whisper)
#: A persona's replies in conversations (a causal LM with a chat template).
LLM: Model[Replier] = Model("llm", ("llm",), _causal_lm)
#: The "vits" voice: one model per language folder, ``[models] vits`` for a language not listed.
VITS: Model[VitsVoice] = Model("vits", ("vits",), _vits, by_language=True)
#: The "speecht5" voice with its vocoder; it clones voices through ``SPEAKER_ENCODER``.
SPEECHT5: Model[SpeechT5Voice] = Model("speecht5", ("speecht5", "hifigan"), _speecht5)
#: Speaker embeddings of voice samples, for cloning.
SPEAKER_ENCODER: Model[SpeakerEncoder] = Model("speaker_encoder", ("speaker_encoder",), _speaker_encoder)
#: The Wav2Lip network behind the batcher every render shares.
LIPSYNC: Model[LipSyncBatcher] = Model("lipsync", ("lipsync",), _lipsync)
