"""Neural models the operator supplies, loaded once per process and shared by every plugin.

Each accessor returns ``None`` when its model is not configured, so callers take the
model-free default path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

from engine.settings import ModelSettings


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
                 replier: Replier | None = None) -> None:
        self.settings = settings
        self._recognizer = recognizer
        self._replier = replier

    def recognizer(self) -> SpeechRecognizer | None:
        if self._recognizer is None and self.settings.asr is not None:
            from engine.asr import WhisperRecognizer

            self._recognizer = WhisperRecognizer(self.settings.asr, self.settings.device)
        return self._recognizer

    def replier(self) -> Replier | None:
        if self._replier is None and self.settings.llm is not None:
            from engine.dialogue import CausalLMReplier

            self._replier = CausalLMReplier(self.settings.llm, self.settings.device)
        return self._replier
