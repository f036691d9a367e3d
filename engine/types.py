"""Data passed between the engine's stages: speech → timeline → motion → frames → file."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import numpy as np

#: Every audio signal inside the engine is mono float32 at this rate.
SAMPLE_RATE = 16_000


class Viseme(str, Enum):
    """Mouth shapes of the Preston Blair chart used by PNGTuber sprite sets."""

    REST = "rest"  # mouth closed and relaxed: silence
    MBP = "mbp"  # lips pressed: m, b, p
    FV = "fv"  # lower lip under the teeth: f, v
    AI = "ai"  # open: a, i (as in "eye"), most open vowels
    E = "e"  # wide: e, i (as in "see")
    O = "o"  # rounded open: o
    U = "u"  # rounded small: u, oo
    L = "l"  # tongue up: l, th, d, n
    WQ = "wq"  # puckered: w, q
    ETC = "etc"  # teeth together, slightly open: c d g k n r s t y z


class Expression(str, Enum):
    NEUTRAL = "neutral"
    HAPPY = "happy"
    SAD = "sad"
    SURPRISED = "surprised"
    ANGRY = "angry"


@dataclass(frozen=True)
class PhonemeEvent:
    """A phoneme that starts at ``time`` seconds from the start of the speech."""

    time: float
    phoneme: str  # espeak-ng mnemonic, e.g. "m", "a#", "aI", "_:" (pause)


@dataclass(frozen=True)
class WordEvent:
    time: float
    text: str


@dataclass
class Speech:
    """Audio plus, when we synthesised it ourselves, what was said and when."""

    samples: np.ndarray  # float32, mono, in [-1, 1]
    sample_rate: int = SAMPLE_RATE
    phonemes: list[PhonemeEvent] = field(default_factory=list)
    words: list[WordEvent] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True)
class Cue:
    """The mouth holds ``viseme`` from ``start`` to ``end`` (seconds)."""

    start: float
    end: float
    viseme: Viseme
    strength: float = 1.0  # 0..1, how fully the shape is formed (loudness for audio cues)


@dataclass(frozen=True)
class Timeline:
    cues: tuple[Cue, ...]
    duration: float
    source: str  # "phonemes" (exact, from TTS) or "audio" (analysed)


@dataclass(frozen=True)
class MotionFrame:
    """Everything the renderer needs to draw one video frame."""

    mouth: Viseme
    mouth_next: Viseme  # shape being blended towards (co-articulation)
    mouth_blend: float  # 0 → only ``mouth``, 1 → only ``mouth_next``
    eyes_closed: float  # 0 open … 1 closed
    head_x: float  # head offset in pixels of the output frame
    head_y: float
    expression: Expression = Expression.NEUTRAL
    tilt: float = 0.0  # head roll in degrees, clockwise (renderers that can't turn the head ignore it)


@dataclass(frozen=True)
class VoiceSettings:
    """espeak-ng voice parameters of a persona."""

    language: str = "en-us"
    variant: str | None = None  # espeak variant name, e.g. "f3", "m2"
    pitch: int = 50  # 0..100
    rate: int = 170  # words per minute, 80..450
    pitch_range: int = 50  # 0..100, intonation
    sample: Path | None = None  # a 3–10 s recording whose voice a cloning backend speaks with


@dataclass(frozen=True)
class RenderRequest:
    """What to render: speech from ``text`` or ``audio_path``, said by ``persona``."""

    persona: str
    text: str | None = None
    audio_path: Path | None = None
    width: int = 512
    height: int = 512
    fps: int = 25
    expression: Expression = Expression.NEUTRAL
    voice_sample: Path | None = None  # text spoken in this recording's voice (cloned), not the persona's
    lang: str | None = None  # the text's language (--lang, the server's), for text in its script; else detected
    face: Path | None = None  # a photo or short video to animate instead of the persona's own art
    renderer: str | None = None  # a renderer backend instead of the persona's own (``--renderer wav2lip``)


@dataclass(frozen=True)
class RenderResult:
    path: Path
    persona: str
    duration: float  # seconds of audio (and video)
    frames: int
    width: int
    height: int
    fps: int
    timeline_source: str
    elapsed: float  # seconds spent rendering (0 when served from the cache)
    cached: bool = False
