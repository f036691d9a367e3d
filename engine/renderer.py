"""The renderer contract: a whole clip in, its frames out, in order.

A renderer backend (registered under a name a persona's ``renderer`` picks) owns the
assets of its kind of persona: ``assets`` checks them in a persona folder with a clear
message and lists the files that go into the persona's fingerprint (the cache key);
``open`` makes a ``Renderer`` for one persona at one output size, which the pipeline
keeps and reuses. A renderer sees the whole ``Clip`` (speech, timeline, motion track),
so one that needs the audio or works in batches fits the same path as one that draws
frame by frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np

    from engine.types import MotionFrame, Speech, Timeline
    from personas.model import Persona


@dataclass(frozen=True)
class Clip:
    """Everything decided about a video before its first frame is drawn."""

    speech: Speech
    timeline: Timeline
    track: Sequence[MotionFrame]  # one per frame
    width: int
    height: int
    fps: int
    priority: int = 0  # the job's engine ``Priority`` (lower is more urgent), for renderers sharing a device


class Renderer(Protocol):
    def frames(self, clip: Clip) -> Iterator[np.ndarray]:
        """``len(clip.track)`` uint8 frames in order: RGB ``(height, width, 3)``, or yuv420p planes
        stacked as ``(height * 3 // 2, width)``, which the encoder takes without converting. A
        renderer that works in batches yields each batch's frames one by one."""


class RendererBackend(Protocol):
    def assets(self, folder: Path, settings: Mapping[str, Any]) -> list[Path]:
        """Check the assets a persona of this kind needs in ``folder`` (``settings`` is its parsed
        persona.toml); raise ``ValueError`` naming the file and the problem; return the files whose
        bytes make the persona's fingerprint."""

    def open(self, persona: Persona, width: int, height: int) -> Renderer:
        """A renderer of ``persona`` at ``width``×``height``, reused across renders."""


class FrameByFrame:
    """A ``Renderer`` made of a function that draws one ``MotionFrame``."""

    def __init__(self, draw: Callable[[MotionFrame], np.ndarray]) -> None:
        self.draw = draw

    def frames(self, clip: Clip) -> Iterator[np.ndarray]:
        return map(self.draw, clip.track)


class SpriteBackend:
    """Layered PNGTuber art in the persona's ``sprite/`` folder (see personas/README.md)."""

    folder = "sprite"

    def __init__(self, layers_cache: Path | None = None) -> None:
        # decoded layers and painted canvases, kept between processes (engine.sprite_cache)
        self.layers_cache = layers_cache

    def assets(self, folder: Path, settings: Mapping[str, Any]) -> list[Path]:
        from engine.sprite_set import BACKGROUND_FILE, check_sprite_dir

        sprite_dir = folder / self.folder
        if settings.get("background") == BACKGROUND_FILE and not (sprite_dir / BACKGROUND_FILE).is_file():
            raise ValueError(f"background = '{BACKGROUND_FILE}' but {self.folder}/{BACKGROUND_FILE} is missing")
        check_sprite_dir(sprite_dir)
        return sorted(path for path in sprite_dir.rglob("*") if path.is_file())

    def open(self, persona: Persona, width: int, height: int) -> Renderer:
        from engine.sprite import SpriteRenderer

        cache = (self.layers_cache, persona.fingerprint) if self.layers_cache else None
        sprite = SpriteRenderer(persona.root / self.folder, width, height, persona.background, pixel_format="yuv420p",
                                layers_cache=cache)
        return FrameByFrame(sprite.render)
