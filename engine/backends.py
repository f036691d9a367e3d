"""Named backends for the engine's pluggable stages: speech synthesis and frame rendering.

Plugins add their own through the ``register_backends`` hook; a persona names the
ones it uses (``voice.backend``, ``renderer``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Protocol

if TYPE_CHECKING:
    import numpy as np

    from engine.types import MotionFrame, Speech, VoiceSettings
    from personas.model import Persona

TtsBackend = Callable[[str, "VoiceSettings"], "Speech"]


class FrameRenderer(Protocol):
    def render(self, frame: MotionFrame) -> np.ndarray:
        """One uint8 frame: RGB (height, width, 3), or yuv420p planes stacked as
        (height * 3 // 2, width), which the encoder takes without converting."""


RendererFactory = Callable[["Persona", int, int], FrameRenderer]

KINDS = ("tts", "renderer")


@dataclass
class Backends:
    tts: dict[str, TtsBackend] = field(default_factory=dict)
    renderer: dict[str, RendererFactory] = field(default_factory=dict)

    @classmethod
    def with_defaults(cls) -> Backends:
        backends = cls()
        backends.register("tts", "espeak", _espeak)
        backends.register("renderer", "sprite", _sprite)
        return backends

    def register(self, kind: str, name: str, factory: Any) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown backend kind {kind!r}; expected one of {', '.join(KINDS)}")
        getattr(self, kind)[name] = factory

    def get(self, kind: str, name: str) -> Any:
        table = getattr(self, kind)
        if name not in table:
            raise LookupError(f"no {kind} backend named {name!r}; available: {', '.join(sorted(table))}")
        return table[name]


def _espeak(text: str, voice: VoiceSettings) -> Speech:
    from engine.tts import synthesize

    return synthesize(text, voice)


def _sprite(persona: Persona, width: int, height: int) -> FrameRenderer:
    from engine.sprite import SpriteRenderer

    return SpriteRenderer(persona.sprite_dir, width, height, persona.background, pixel_format="yuv420p")
