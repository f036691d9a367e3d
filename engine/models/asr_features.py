"""Whisper's log-mel input features computed with ``torch.stft`` (on the model's device).

The same recipe as ``WhisperFeatureExtractor``: each clip is zero-padded or cut to 30 s,
a 400-point Hann-windowed STFT every 160 samples (centred, reflect-padded), power
spectrum through the processor's own mel filter bank, log10 clamped at 1e-10, floored
8 decades below the clip's peak, then scaled by (x + 4) / 4; the last STFT frame is dropped,
leaving 3000 frames.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from engine.types import SAMPLE_RATE

if TYPE_CHECKING:
    import torch

N_FFT = 400
HOP_LENGTH = 160
CHUNK_SECONDS = 30
CHUNK_SAMPLES = CHUNK_SECONDS * SAMPLE_RATE
CHUNK_FRAMES = CHUNK_SAMPLES // HOP_LENGTH  # 3000
DYNAMIC_RANGE = 8.0  # decades of power kept below the loudest bin


def log_mel(clips: list[np.ndarray], mel_filters: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """Features of each clip (16 kHz mono float): float32 of shape (len(clips), n_mels, 3000).

    ``mel_filters`` is ``processor.feature_extractor.mel_filters``, shape (n_fft // 2 + 1, n_mels).
    """
    import torch

    batch = np.zeros((len(clips), CHUNK_SAMPLES), dtype=np.float32)
    for row, clip in enumerate(clips):
        part = np.asarray(clip, dtype=np.float32)[:CHUNK_SAMPLES]
        batch[row, : len(part)] = part
    waveform = torch.from_numpy(batch).to(device)
    window = torch.hann_window(N_FFT, device=waveform.device)
    spectrum = torch.stft(waveform, N_FFT, HOP_LENGTH, window=window, center=True, pad_mode="reflect",
                          return_complex=True)
    power = spectrum[..., :-1].abs() ** 2  # (batch, n_fft // 2 + 1, 3000)
    filters = torch.from_numpy(np.asarray(mel_filters, dtype=np.float32)).to(waveform.device)
    mel = filters.T @ power  # (batch, n_mels, 3000)
    log_spec = torch.clamp(mel, min=1e-10).log10()
    peak = log_spec.amax(dim=(1, 2), keepdim=True)
    log_spec = torch.maximum(log_spec, peak - DYNAMIC_RANGE)
    return (log_spec + 4.0) / 4.0


def split_chunks(samples: np.ndarray) -> list[np.ndarray]:
    """Consecutive 30 s pieces of a clip (the last one shorter); at least one, even for an empty clip."""
    return [samples[start : start + CHUNK_SAMPLES] for start in range(0, max(len(samples), 1), CHUNK_SAMPLES)]
