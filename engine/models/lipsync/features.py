"""The audio features Wav2Lip was trained on: normalised log-mel windows, one per video frame.

16 kHz mono, pre-emphasis 0.97, a centred STFT (n_fft 800, hop 200, Hann window 800, reflected
edges), magnitudes through 80 Slaney-normalised mel bands of 55–7600 Hz, in dB less 20, scaled
from [-100, 0] dB to [-4, 4]. That is 80 mel frames a second; video frame ``i`` at ``fps`` reads
the 16 frames from ``int(80 * i / fps)``.
"""

from __future__ import annotations

from functools import cache

import numpy as np

SAMPLE_RATE = 16_000
PREEMPHASIS = 0.97
N_FFT, HOP, WINDOW = 800, 200, 800
N_MELS, FMIN, FMAX = 80, 55.0, 7600.0
MIN_DB, REF_DB, MAX_ABS = -100.0, 20.0, 4.0
MEL_RATE = SAMPLE_RATE / HOP  # 80 mel frames a second
WINDOW_FRAMES = 16


def mel_spectrogram(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """(80, frames) float32 in [-4, 4] of mono float ``samples`` (resampled to 16 kHz when needed)."""
    wav = np.asarray(samples, np.float64)
    if sample_rate != SAMPLE_RATE:
        wav = _resample(wav, sample_rate)
    emphasised = np.concatenate([wav[:1], wav[1:] - PREEMPHASIS * wav[:-1]])
    padded = np.pad(emphasised, N_FFT // 2, mode="reflect" if len(emphasised) > N_FFT // 2 else "constant")
    count = 1 + (len(padded) - N_FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(padded, (count, N_FFT), (padded.strides[0] * HOP, padded.strides[0]))
    magnitude = np.abs(np.fft.rfft(frames * _hann(), axis=1)).T  # (401, frames)
    mel = mel_filters() @ magnitude
    db = 20 * np.log10(np.maximum(10 ** (MIN_DB / 20), mel)) - REF_DB
    scaled = 2 * MAX_ABS * (db - MIN_DB) / -MIN_DB - MAX_ABS
    return np.clip(scaled, -MAX_ABS, MAX_ABS).astype(np.float32)


def mel_windows(mel: np.ndarray, frames: int, fps: int) -> np.ndarray:
    """(frames, 1, 80, 16): video frame ``i``'s window from ``int(80 * i / fps)``; past the end the last
    whole window (and silence when the audio is shorter than one window)."""
    if mel.shape[1] < WINDOW_FRAMES:
        silence = np.full((N_MELS, WINDOW_FRAMES - mel.shape[1]), -MAX_ABS, np.float32)
        mel = np.concatenate([mel, silence], axis=1)
    last = mel.shape[1] - WINDOW_FRAMES
    starts = [min(int(MEL_RATE * i / fps), last) for i in range(frames)]
    return np.stack([mel[:, s : s + WINDOW_FRAMES] for s in starts])[:, None] if frames else \
        np.zeros((0, 1, N_MELS, WINDOW_FRAMES), np.float32)


@cache
def _hann() -> np.ndarray:
    """The periodic Hann window (as an STFT uses), ``WINDOW`` long."""
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WINDOW) / WINDOW)


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """The Slaney mel scale: linear to 1 kHz, logarithmic above."""
    hz = np.asarray(hz, np.float64)
    linear = hz / (200 / 3)
    log_step = np.log(6.4) / 27
    return np.where(hz >= 1000, 15 + np.log(np.maximum(hz, 1e-10) / 1000) / log_step, linear)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    log_step = np.log(6.4) / 27
    return np.where(mel >= 15, 1000 * np.exp(log_step * (mel - 15)), mel * (200 / 3))


@cache
def mel_filters() -> np.ndarray:
    """(80, 401) triangular filters, equally spaced in mels, each scaled to unit area (Slaney)."""
    bins = np.linspace(0, SAMPLE_RATE / 2, 1 + N_FFT // 2)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(np.array(FMIN)), _hz_to_mel(np.array(FMAX)), N_MELS + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - bins[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0, np.minimum(rising, falling))
    return weights * (2 / (edges[2:] - edges[:-2]))[:, None]


def _resample(wav: np.ndarray, rate: int) -> np.ndarray:
    from engine.audio import resample

    return resample(wav.astype(np.float32), rate).astype(np.float64)
