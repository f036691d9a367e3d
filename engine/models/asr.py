"""Speech → text with Whisper (``WhisperForConditionalGeneration`` + its processor) from a local folder.

Features come from ``engine.models.asr_features`` (``torch.stft`` on the model's device); clips longer
than 30 s are cut into 30 s pieces, transcribed as one batch and joined.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from engine.audio import decode_audio
from engine.models.asr_features import log_mel, split_chunks
from engine.models.devices import model_dtype, resolve_device
from engine.models.loading import check_folder, load

#: Tokens Whisper's decoder spends on its prompt (start, language, task, no-timestamps).
_PROMPT_TOKENS = 4


class WhisperRecognizer:
    """Loads once; ``transcribe`` is blocking and serialised by a lock (call it from a worker thread)."""

    def __init__(self, model_dir: Path, device: str = "auto", *, max_new_tokens: int = 220,
                 max_audio_bytes: int = 50 * 1024 * 1024, max_audio_seconds: float = 300.0) -> None:
        import torch
        from transformers import WhisperForConditionalGeneration, WhisperProcessor

        self.model_dir = Path(model_dir)
        check_folder(self.model_dir, "asr", kinds=("whisper",),
                     what="a Whisper model (WhisperForConditionalGeneration)")
        self.device = resolve_device(device)
        self.dtype = model_dtype(self.device)
        self.processor = load("asr", self.model_dir,
                              lambda: WhisperProcessor.from_pretrained(self.model_dir, local_files_only=True))
        self.model = load("asr", self.model_dir, lambda: WhisperForConditionalGeneration.from_pretrained(
            self.model_dir, local_files_only=True, dtype=self.dtype))
        self.model.to(self.device).eval()  # type: ignore[arg-type]
        limit = self.model.config.max_target_positions - _PROMPT_TOKENS - 1
        self.max_new_tokens = max(1, min(max_new_tokens, limit))
        self.max_audio_bytes, self.max_audio_seconds = max_audio_bytes, max_audio_seconds
        self._torch = torch
        self._lock = threading.Lock()

    def transcribe(self, audio_path: Path) -> str:
        """The words spoken in ``audio_path`` (any format ``decode_audio`` reads), stripped."""
        speech = decode_audio(audio_path, max_bytes=self.max_audio_bytes, max_seconds=self.max_audio_seconds)
        chunks = split_chunks(speech.samples)
        generation = self.model.generation_config
        # English-only models (".en") take no task; multilingual ones detect the language themselves.
        task: dict[str, Any] = {"task": "transcribe"} if getattr(generation, "is_multilingual", False) else {}
        with self._lock, self._torch.inference_mode():
            features = log_mel(chunks, self.processor.feature_extractor.mel_filters, self.device).to(self.dtype)
            # Every frame counts: Whisper's own padding is the zeros past the end of the clip.
            mask = self._torch.ones(features.shape[0], features.shape[-1], dtype=self._torch.long, device=self.device)
            tokens = self.model.generate(features, attention_mask=mask, max_new_tokens=self.max_new_tokens, **task)
        texts = self.processor.batch_decode(tokens, skip_special_tokens=True)
        return " ".join(text.strip() for text in texts if text.strip())
