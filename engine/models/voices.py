"""Neural text to speech from local folders: VITS (MMS-TTS) and SpeechT5 + HiFi-GAN, with cloning.

Both give a ``Speech`` at ``SAMPLE_RATE`` without phoneme events, so the pipeline animates the
mouth from the audio itself. Long text is spoken sentence by sentence (bounded memory, and
SpeechT5's text positions are limited) with a short pause between pieces. Both models draw
random numbers while speaking (VITS' noise, SpeechT5's always-on prenet dropout), so each call
seeds a private generator from the text: the same request always sounds the same.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.audio import resample
from engine.errors import ModelError, TextInputError
from engine.models.devices import model_dtype, resolve_device
from engine.models.loading import check_folder, load
from engine.types import SAMPLE_RATE, Speech, VoiceSettings

if TYPE_CHECKING:
    import torch

    from engine.models.speakers import SpeakerEncoder

#: Characters per piece of text spoken in one go, and the pause between pieces.
PIECE_CHARS = 300
PIECE_PAUSE_SECONDS = 0.15
#: SpeechT5's bound on a runaway decoder: at most this many 16 ms spectrogram frames per text token
#: (its default is 20; real speech needs about 5 per character).
MAX_FRAMES_PER_TOKEN = 10.0
#: espeak's default rate (words per minute) is speed 1.0 for VITS.
_BASE_RATE = 170
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")


def pieces(text: str, limit: int = PIECE_CHARS) -> list[str]:
    """``text`` cut at sentence ends (or, inside an overlong sentence, at spaces) into pieces of at most ``limit``."""
    out: list[str] = []
    for sentence in _SENTENCE_END.split(text.strip()):
        for part in _wrap(sentence, limit):
            if out and len(out[-1]) + 1 + len(part) <= limit:
                out[-1] = f"{out[-1]} {part}"
            else:
                out.append(part)
    return out


def _wrap(sentence: str, limit: int) -> Iterator[str]:
    words, line = sentence.split(), ""
    for word in words:
        while len(word) > limit:  # one unbroken run of characters longer than a piece
            if line:
                yield line
                line = ""
            yield word[:limit]
            word = word[limit:]
        if line and len(line) + 1 + len(word) > limit:
            yield line
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        yield line


class VitsVoice:
    """A ``VitsModel`` (e.g. facebook/mms-tts-eng) with its tokenizer. Kept in fp32: VITS' flows are
    unstable in half precision."""

    def __init__(self, model_dir: Path, device: str = "auto") -> None:
        from transformers import AutoTokenizer, VitsModel

        self.model_dir = Path(model_dir)
        check_folder(self.model_dir, "vits", kinds=("vits",), what="a VITS text-to-speech model (e.g. MMS-TTS)")
        self.device = resolve_device(device)
        self.tokenizer = load("vits", self.model_dir,
                              lambda: AutoTokenizer.from_pretrained(self.model_dir, local_files_only=True))
        self.model = load("vits", self.model_dir,
                          lambda: VitsModel.from_pretrained(self.model_dir, local_files_only=True))
        self.model.to(self.device).eval()  # type: ignore[arg-type]
        self.rate = int(self.model.config.sampling_rate)
        self.piece_chars = PIECE_CHARS
        self._lock = threading.Lock()

    def synthesize(self, text: str, voice: VoiceSettings) -> Speech:
        speed = max(voice.rate, 1) / _BASE_RATE

        def speak(piece: str) -> torch.Tensor:
            inputs = self.tokenizer(piece, return_tensors="pt")
            if not bool((inputs["input_ids"] != (self.tokenizer.pad_token_id or 0)).any()):  # only padding, or empty
                raise TextInputError("This voice can't read any of those characters — please write in the "
                                     "language and alphabet the persona's voice speaks.")
            return self.model(**inputs.to(self.device), speaking_rate=speed).waveform[0]

        return _speak(text, speak, self.rate, self._lock, self.device, self.piece_chars)


class SpeechT5Voice:
    """``SpeechT5ForTextToSpeech`` + ``SpeechT5HifiGan``; speaks with a voice sample's embedding when the
    voice has one (``VoiceSettings.sample``, needs the speaker encoder), else the model's average voice."""

    def __init__(self, model_dir: Path, vocoder_dir: Path, device: str = "auto",
                 speaker_encoder: Callable[[], SpeakerEncoder | None] = lambda: None) -> None:
        from transformers import (
            SpeechT5ForTextToSpeech,
            SpeechT5HifiGan,
            SpeechT5Processor,
        )

        self.model_dir, self.vocoder_dir = Path(model_dir), Path(vocoder_dir)
        check_folder(self.model_dir, "speecht5", kinds=("speecht5",), what="a SpeechT5 text-to-speech model")
        check_folder(self.vocoder_dir, "hifigan", kinds=("hifigan", "speecht5_hifigan"),
                     what="a SpeechT5 HiFi-GAN vocoder")
        self.device = resolve_device(device)
        self.dtype = model_dtype(self.device)
        self.processor = load("speecht5", self.model_dir,
                              lambda: SpeechT5Processor.from_pretrained(self.model_dir, local_files_only=True))
        self.model = load("speecht5", self.model_dir, lambda: SpeechT5ForTextToSpeech.from_pretrained(
            self.model_dir, local_files_only=True, dtype=self.dtype))
        self.vocoder = load("hifigan", self.vocoder_dir, lambda: SpeechT5HifiGan.from_pretrained(
            self.vocoder_dir, local_files_only=True, dtype=self.dtype))
        self.model.to(self.device).eval()  # type: ignore[arg-type]
        self.vocoder.to(self.device).eval()  # type: ignore[arg-type]
        self.rate = int(self.vocoder.config.sampling_rate)
        self.dimension = int(self.model.config.speaker_embedding_dim)
        self.max_tokens = int(self.model.config.max_text_positions)
        self.piece_chars = min(PIECE_CHARS, self.max_tokens - 2)  # characters ≈ tokens: SpeechT5 reads letters
        self._speaker_encoder = speaker_encoder
        self._lock = threading.Lock()

    def speaker_embedding(self, sample: Path | None) -> np.ndarray:
        """The voice sample's embedding, or zeros (the model's average voice) without a sample."""
        if sample is None:
            return np.zeros(self.dimension, dtype=np.float32)
        encoder = self._speaker_encoder()
        if encoder is None:
            from engine.errors import ModelNotConfiguredError

            raise ModelNotConfiguredError(
                "Speaking with a voice sample needs a speaker encoder: set [models] speaker_encoder in config.toml "
                "to a local x-vector model folder (see the README's Models section)."
            )
        if encoder.dimension != self.dimension:
            raise ModelError(f"[models] speaker_encoder gives {encoder.dimension}-value embeddings, but the SpeechT5 "
                             f"model expects {self.dimension}; use an x-vector model with xvector_output_dim = "
                             f"{self.dimension}.")
        return encoder.embed(sample)

    def synthesize(self, text: str, voice: VoiceSettings) -> Speech:
        import torch

        embedding = torch.from_numpy(self.speaker_embedding(voice.sample)).to(self.device, self.dtype)[None]

        def speak(piece: str) -> torch.Tensor:
            input_ids = self.processor(text=piece, return_tensors="pt")["input_ids"][:, : self.max_tokens]
            waveform = self.model.generate_speech(input_ids.to(self.device), embedding, vocoder=self.vocoder,
                                                  maxlenratio=MAX_FRAMES_PER_TOKEN)
            assert isinstance(waveform, torch.Tensor)  # a tuple only when asked for output lengths
            return waveform

        return _speak(text, speak, self.rate, self._lock, self.device, self.piece_chars)


def _speak(text: str, speak: Callable[[str], torch.Tensor], rate: int, lock: threading.Lock,
           device: torch.device, piece_chars: int) -> Speech:
    """Each piece of ``text`` through ``speak`` (under ``lock``, seeded by the text), joined with pauses."""
    import torch

    parts = pieces(text, piece_chars)
    if not parts:
        raise TextInputError("There is nothing to say — please send some text.")
    pause = np.zeros(int(PIECE_PAUSE_SECONDS * rate), dtype=np.float32)
    audio: list[np.ndarray] = []
    cuda = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else []
    with lock, torch.inference_mode(), torch.random.fork_rng(devices=cuda):
        torch.manual_seed(zlib.crc32(text.encode()))
        for index, piece in enumerate(parts):
            if index:
                audio.append(pause)
            audio.append(speak(piece).reshape(-1).float().cpu().numpy())
    samples = np.concatenate(audio)
    if rate != SAMPLE_RATE:
        samples = resample(samples, rate)
    samples = np.clip(np.nan_to_num(samples), -1.0, 1.0).astype(np.float32)
    if samples.size == 0:
        raise TextInputError("The voice produced no sound for this text — please use words it can read out.")
    return Speech(samples=samples)
