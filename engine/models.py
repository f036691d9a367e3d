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
    def __init__(self, settings: ModelSettings) -> None:
        self.settings = settings
        self._recognizer: SpeechRecognizer | None = None
        self._replier: Replier | None = None

    def recognizer(self) -> SpeechRecognizer | None:
        if self.settings.asr is None:
            return None
        if self._recognizer is None:
            from engine.asr import WhisperRecognizer

            self._recognizer = WhisperRecognizer(self.settings.asr, self.settings.device)
        return self._recognizer

    def replier(self) -> Replier | None:
        if self.settings.llm is None:
            return None
        if self._replier is None:
            from engine.dialogue import CausalLMReplier

            self._replier = CausalLMReplier(self.settings.llm, self.settings.device)
        return self._replier
