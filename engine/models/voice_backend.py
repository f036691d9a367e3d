"""The neural voices as "tts" backends: ``vits`` and ``speecht5``, each speaking with the hub's model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from engine.errors import ModelNotConfiguredError
from engine.models.kinds import SPEECHT5, VITS, Model

if TYPE_CHECKING:
    from engine.models.hub import ModelHub
    from engine.types import Speech, VoiceSettings

#: The "tts" backend that speaks with a voice sample (a persona's ``[voice] sample``, a member's ``!voice``).
CLONING_BACKEND = SPEECHT5.name

#: What each neural voice needs configured, for the message when it is not.
_NEEDS = {
    VITS.name: "a VITS / MMS-TTS model folder",
    SPEECHT5.name: "a SpeechT5 text-to-speech folder and its HiFi-GAN vocoder folder",
}


class Synthesizer(Protocol):
    def synthesize(self, text: str, voice: VoiceSettings) -> Speech: ...


class NeuralVoice:
    """The "tts" backend callable ``(text, voice) -> Speech`` for one neural voice of the hub."""

    def __init__(self, hub: ModelHub, kind: Model[Synthesizer]) -> None:
        self.hub, self.kind = hub, kind

    @property
    def fingerprint(self) -> str:
        """Changes when the voice's model folders or the device change: part of the render cache key."""
        from engine.models.loading import folder_fingerprint

        settings = self.hub.settings
        folders = ([settings.vits, *settings.vits_languages.values()] if self.kind is VITS
                   else [settings.speecht5, settings.hifigan, settings.speaker_encoder])
        return f"{self.kind.name}:{settings.device}:{folder_fingerprint(*folders)}"

    def __call__(self, text: str, voice: VoiceSettings) -> Speech:
        model = self.hub.get(self.kind, voice.language)
        if model is None:
            raise ModelNotConfiguredError(
                f"This persona speaks with the {self.kind.name} voice, which isn't set up here: the operator has to "
                f"set [models] {' and '.join(self.kind.keys)} in config.toml to {_NEEDS[self.kind.name]} (see the "
                "README's Models section), or give the persona another [voice] backend such as \"espeak\"."
            )
        return model.synthesize(text, voice)
