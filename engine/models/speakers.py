"""Voice cloning: a speaker embedding from a 3–10 s voice sample, by an x-vector model in a local folder.

The encoder is a transformers x-vector model (``WavLMForXVector`` or ``UniSpeechSatForXVector``)
whose output size matches SpeechT5's speaker embeddings (512). Embeddings are L2-normalised
and kept by the sample's content hash, so a sample is encoded once however often it speaks.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from engine.audio import decode_audio
from engine.errors import AudioInputError
from engine.models.devices import resolve_device
from engine.models.loading import check_folder, load
from engine.types import SAMPLE_RATE

SAMPLE_MIN_SECONDS = 3.0
SAMPLE_MAX_SECONDS = 10.0
SAMPLE_MAX_BYTES = 20 * 1024 * 1024
#: Decoding stops past this length; anything between it and the maximum gets the clear message below.
_DECODE_LIMIT_SECONDS = 120.0
EMBEDDINGS_KEPT = 256
XVECTOR_KINDS = ("wavlm", "unispeech-sat", "wav2vec2")


def load_sample(path: Path) -> np.ndarray:
    """The sample's 16 kHz mono samples; ``AudioInputError`` unless it is 3–10 s of audible sound."""
    speech = decode_audio(path, max_bytes=SAMPLE_MAX_BYTES, max_seconds=_DECODE_LIMIT_SECONDS)
    if not SAMPLE_MIN_SECONDS <= speech.duration <= SAMPLE_MAX_SECONDS:
        raise AudioInputError(
            f"A voice sample must be {SAMPLE_MIN_SECONDS:.0f}–{SAMPLE_MAX_SECONDS:.0f} seconds of speech; "
            f"this one is {speech.duration:.1f} s. Please record one of that length."
        )
    return speech.samples


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as sample:
        while chunk := sample.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class SpeakerEncoder:
    """Loads once; ``embed`` is blocking and serialised by a lock. Runs in fp32 (it is small)."""

    def __init__(self, model_dir: Path, device: str = "auto") -> None:
        import torch
        from transformers import AutoFeatureExtractor, AutoModelForAudioXVector

        self.model_dir = Path(model_dir)
        check_folder(self.model_dir, "speaker_encoder", kinds=XVECTOR_KINDS,
                     what="an x-vector speaker encoder (e.g. WavLMForXVector)")
        self.device = resolve_device(device)
        self.features = load("speaker_encoder", self.model_dir,
                             lambda: AutoFeatureExtractor.from_pretrained(self.model_dir, local_files_only=True))
        self.model = load("speaker_encoder", self.model_dir, lambda: AutoModelForAudioXVector.from_pretrained(
            self.model_dir, local_files_only=True))
        self.model.to(self.device).eval()
        self.dimension = int(self.model.config.xvector_output_dim)
        self._torch = torch
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def embed(self, sample_path: Path) -> np.ndarray:
        """The L2-normalised speaker embedding (float32, ``dimension`` values) of a 3–10 s sample."""
        key = content_hash(sample_path)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        samples = load_sample(sample_path)
        inputs = self.features(samples, sampling_rate=SAMPLE_RATE, return_tensors="pt").to(self.device)
        with self._lock, self._torch.inference_mode():
            embedding = self.model(**inputs).embeddings[0]
            vector = self._torch.nn.functional.normalize(embedding.float(), dim=-1).cpu().numpy()
            self._cache[key] = vector
            while len(self._cache) > EMBEDDINGS_KEPT:
                self._cache.popitem(last=False)
        return vector
