"""Named backends for the engine's pluggable stages: speech synthesis and rendering.

Plugins add their own through the ``register_backends`` hook; a persona names the
ones it uses (``voice.backend``, ``renderer``). A renderer backend is an
``engine.renderer.RendererBackend``: it checks and fingerprints its persona kind's
assets and opens renderers that take a whole clip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from pathlib import Path

    from engine.renderer import RendererBackend
    from engine.types import Speech, VoiceSettings

TtsBackend = Callable[[str, "VoiceSettings"], "Speech"]

KINDS = ("tts", "renderer")


@dataclass
class Backends:
    tts: dict[str, TtsBackend] = field(default_factory=dict)
    renderer: dict[str, RendererBackend] = field(default_factory=dict)

    @classmethod
    def with_defaults(cls, layers_cache: Path | None = None) -> Backends:
        """espeak-ng and the built-in renderers; sprite layers and canvases are kept in ``layers_cache`` when given."""
        backends = cls()
        backends.register("tts", "espeak", _espeak)
        for name, renderer in builtin_renderers(layers_cache).items():
            backends.register("renderer", name, renderer)
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


def builtin_renderers(layers_cache: Path | None = None) -> dict[str, RendererBackend]:
    """The renderer backends that ship with Mouthpiece: drawn sprites, a photo, a template video."""
    from engine.face.backends import PhotoBackend, VideoBackend
    from engine.renderer import SpriteBackend

    return {"sprite": SpriteBackend(layers_cache), "photo": PhotoBackend(), "video": VideoBackend()}
