"""Engine settings: the ``[engine]`` table of config.toml."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from engine.types import RenderRequest


MAX_WORKERS = 16
#: The ``[models]`` keys that name a model folder.
MODEL_KEYS = ("asr", "llm", "vits", "speecht5", "hifigan", "speaker_encoder")
#: The ``[models]`` keys voice cloning (``!voice``, ``--voice mine``, a persona's ``[voice] sample``) needs.
CLONING_MODELS = ("speecht5", "hifigan", "speaker_encoder")


class ModelSettings(BaseModel):
    """The ``[models]`` table: local folders of neural models (saved with ``save_pretrained``), and files.

    The agent never downloads anything (``mouthpiece models pull`` is the operator's way to fetch
    them); an empty entry means the default, model-free path.
    """

    model_config = ConfigDict(extra="forbid")

    asr: Path | None = None  # Whisper (WhisperForConditionalGeneration + processor)
    llm: Path | None = None  # a causal LM with a chat template
    vits: Path | None = None  # VITS / MMS-TTS (VitsModel + tokenizer): the "vits" voice
    #: The "vits" voice's folder per language (``[models.vits_languages]``, e.g. es = "models/mms-tts-spa");
    #: a language not listed is spoken with ``vits``.
    vits_languages: dict[str, Path] = {}
    speecht5: Path | None = None  # SpeechT5ForTextToSpeech + processor: the "speecht5" voice
    hifigan: Path | None = None  # SpeechT5HifiGan, the vocoder the "speecht5" voice needs
    speaker_encoder: Path | None = None  # an x-vector model (WavLMForXVector): voice cloning from samples
    lipsync: Path | None = None  # a Wav2Lip checkpoint (.pth): the "wav2lip" renderer
    #: The lip-sync model's precision on the CPU: "auto" (bf16 where it matches fp32 closely), "bf16" or "fp32".
    lipsync_precision: str = Field("auto", pattern=r"^(auto|bf16|fp32)$")
    device: str = Field("auto", pattern=r"^(auto|cpu|cuda(:\d+)?)$")  # auto: CUDA when present
    folder: Path = Path("models")  # where ``mouthpiece models pull`` puts what it downloads


class EngineSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    width: int = Field(512, ge=64, le=1920, multiple_of=2)
    height: int = Field(512, ge=64, le=1920, multiple_of=2)
    fps: int = Field(25, ge=5, le=60)
    max_audio_bytes: int = Field(50 * 1024 * 1024, gt=0)
    max_audio_seconds: float = Field(300.0, gt=0)
    max_text_chars: int = Field(1000, gt=0)
    # Render threads: one per core (two gave 1.3-1.8x the throughput of one on two cores).
    workers: int = Field(default_factory=lambda: min(os.cpu_count() or 1, MAX_WORKERS), ge=1, le=MAX_WORKERS)
    queue_size: int = Field(32, ge=1)
    output_dir: Path = Path("out")
    cache_dir: Path = Path(".cache/renders")
    crf: int = Field(23, ge=0, le=51)
    preset: str = "veryfast"
    #: Where renders run: "local" (this process's threads) or "ray" (workers of the Ray cluster at
    #: ``ray_address``; queue, cache, progress and cancelling stay here, ``workers`` renders in flight).
    executor: Literal["local", "ray"] = "local"
    ray_address: str | None = Field(None, min_length=1)  # "host:port" of the cluster's head

    @model_validator(mode="after")
    def _ray_needs_an_address(self) -> EngineSettings:
        if self.executor == "ray" and self.ray_address is None:
            raise ValueError('executor = "ray" needs ray_address, the head node\'s "host:port"')
        return self

    def request(self, persona: str, *, text: str | None = None, audio_path: Path | None = None,
                expression: str = "neutral", voice_sample: Path | None = None,
                lang: str | None = None, face: Path | None = None,
                renderer: str | None = None) -> RenderRequest:
        """A request for ``persona`` to say ``text`` or ``audio_path`` at the configured size and rate."""
        from engine.types import Expression, RenderRequest

        return RenderRequest(persona=persona, text=text, audio_path=audio_path, width=self.width,
                             height=self.height, fps=self.fps, expression=Expression(expression),
                             voice_sample=voice_sample, lang=lang, face=face, renderer=renderer)
