"""Speech → timeline of mouth shapes: from TTS phoneme events when we have them, else from the audio."""

from __future__ import annotations

import math

import numpy as np

from engine.types import Cue, Speech, Timeline, Viseme

#: espeak-ng names phonemes in ASCII after the Kirshenbaum scheme, the same in every language: a vowel
#: name starts with a vowel letter, a consonant's first letter is its place of articulation. The mouth
#: shape follows from the articulation, so every language's phonemes get one without a table of names.
#: Vowel letters by openness (the most open letter of a diphthong is its nucleus) and rounding.
_OPEN_VOWELS = frozenset("aA&V6")  # a ɑ æ ʌ ɐ: jaw open
_ROUNDED_VOWELS = frozenset("oO0WY8")  # o ɔ ɒ œ ø ɵ: lips rounded, mouth half open
_CLOSE_ROUNDED_VOWELS = frozenset("uUy")  # u ʊ y: lips rounded and close
_SPREAD_VOWELS = frozenset("eEiI@3127")  # e ɛ i ɪ ə ɜ ɨ: lips spread
_VOWEL_LETTERS = _OPEN_VOWELS | _ROUNDED_VOWELS | _CLOSE_ROUNDED_VOWELS | _SPREAD_VOWELS
_OPENNESS = {**dict.fromkeys(_OPEN_VOWELS, 2), **dict.fromkeys(_ROUNDED_VOWELS | set("eE@3"), 1)}
#: Consonants by their first letter: the lips (p b m, β, ɸ as "p\\"), lip and teeth, lips rounded
#: towards the velum (w), tongue tip up or between the teeth (l, θ, ð); the rest leave the lips apart.
_CONSONANTS = {**dict.fromkeys("pbmB", Viseme.MBP), **dict.fromkeys("fv", Viseme.FV), "w": Viseme.WQ,
               **dict.fromkeys("lLTD", Viseme.L)}
_STRESS_MARKS = "',%="
#: Audio analysis: levels in dB relative to the clip's loud level (its 95th-percentile frame).
_LOUD_PERCENTILE = 95.0
_NOISE_PERCENTILE = 10.0
_FLOOR_ABOVE_NOISE_DB = 10.0
_FLOOR_RANGE_DB = (-35.0, -15.0)  # the floor adapts to the noise, within these bounds
_DIGITAL_SILENCE_DB = -90.0  # absolute dBFS: frames this quiet never count as loud
_SIBILANT_SHARE = 0.3  # share of power above 4 kHz
_ROUNDED_SHARE = 0.8  # share of power below 1 kHz
_U_CENTROID_HZ = 450.0
_E_CENTROID_HZ = 1500.0
_CLASSIFY_BLOCK = 1024  # frames whose spectra are computed at once: bounds memory on long clips

#: Frame classes of the audio analysis are indices into this tuple; 0 (REST) is silence.
_AUDIO_VISEMES = (Viseme.REST, Viseme.ETC, Viseme.U, Viseme.O, Viseme.AI, Viseme.E)
_REST, _ETC, _U, _O, _AI, _E = range(len(_AUDIO_VISEMES))


def from_speech(speech: Speech, fps: int) -> Timeline:
    """Cues covering [0, duration]: exact when ``speech`` has phoneme events, else analysed from audio."""
    if speech.phonemes:
        return Timeline(_phoneme_cues(speech), speech.duration, source="phonemes")
    return Timeline(_audio_cues(speech.samples, speech.sample_rate, fps), speech.duration, source="audio")


def viseme_for(phoneme: str) -> Viseme:
    """The mouth shape of an espeak-ng phoneme mnemonic in any language; pauses ("_", "_:", "_!") are REST."""
    shape = _shape(phoneme)
    return Viseme.ETC if shape is None else shape


def _shape(phoneme: str) -> Viseme | None:
    """``viseme_for``, or None for an event that only modifies the one before it (";" palatalises it,
    "(en)" marks a change of language), which keeps its shape."""
    name = phoneme.strip().lstrip(_STRESS_MARKS)
    if not name or name.startswith("_"):
        return Viseme.REST
    if not name[0].isalnum() and name[0] not in "@&":
        return None
    if name[0] == "@" and name[1:2].isalpha():  # a syllabic consonant: "@L" in "bottle"
        return _CONSONANTS.get(name[1], Viseme.ETC)
    if name[0] in _VOWEL_LETTERS:
        vowels = [char for char in name if char in _VOWEL_LETTERS]
        nucleus = max(vowels, key=lambda char: _OPENNESS.get(char, 0))  # the first of the most open
        if nucleus in _OPEN_VOWELS:
            return Viseme.AI
        if nucleus in _ROUNDED_VOWELS:
            return Viseme.O
        return Viseme.U if nucleus in _CLOSE_ROUNDED_VOWELS else Viseme.E
    return _CONSONANTS.get(name[0], Viseme.ETC)


def _phoneme_cues(speech: Speech) -> tuple[Cue, ...]:
    duration = speech.duration
    events = sorted(speech.phonemes, key=lambda event: event.time)
    starts = [min(max(event.time, 0.0), duration) for event in events]
    spans = [(0.0, starts[0], Viseme.REST)]  # silence before the first phoneme
    for start, end, event in zip(starts, [*starts[1:], duration], events, strict=True):
        spans.append((start, end, _shape(event.phoneme) or spans[-1][2]))
    return _merge(spans)


def _merge(spans: list[tuple[float, float, Viseme]]) -> tuple[Cue, ...]:
    """Drop empty spans and join neighbours with the same shape."""
    cues: list[Cue] = []
    for start, end, viseme in spans:
        if end <= start:
            continue
        if cues and cues[-1].viseme == viseme:
            cues[-1] = Cue(cues[-1].start, end, viseme)
        else:
            cues.append(Cue(start, end, viseme))
    return tuple(cues)


def _audio_cues(samples: np.ndarray, rate: int, fps: int) -> tuple[Cue, ...]:
    duration = len(samples) / rate
    count = math.ceil(duration * fps - 1e-9)
    if count == 0:
        return ()
    frames = _frames(samples, rate, fps, count)
    power = np.einsum("ij,ij->i", frames, frames).astype(np.float64) / frames.shape[1]
    level = 10.0 * np.log10(power + 1e-20)
    loud, floor = _levels(level)
    codes = np.full(count, _REST)
    voiced = np.flatnonzero(level > floor)
    for block in range(0, len(voiced), _CLASSIFY_BLOCK):  # bounded memory for long clips
        rows = voiced[block : block + _CLASSIFY_BLOCK]
        codes[rows] = _classify(frames[rows], rate)
    strength = np.where(codes != _REST, np.clip((level - floor) / max(loud - floor, 1e-9), 0.0, 1.0), 1.0)
    return _runs(codes, strength, fps, duration)


def _frames(samples: np.ndarray, rate: int, fps: int, count: int) -> np.ndarray:
    """One window per video frame, starting where the frame starts (zero-padded past the end)."""
    width = math.ceil(rate / fps)
    starts = np.round(np.arange(count) * (rate / fps)).astype(np.int64)
    padded = np.concatenate([samples.astype(np.float32, copy=False), np.zeros(width, dtype=np.float32)])
    return np.lib.stride_tricks.sliding_window_view(padded, width)[starts]


def _levels(level_db: np.ndarray) -> tuple[float, float]:
    """The clip's loud level and the floor under which a frame is silence, both in dBFS."""
    audible = level_db[level_db > _DIGITAL_SILENCE_DB]
    if audible.size == 0:
        return 0.0, math.inf  # nothing audible: every frame is REST
    loud = float(np.percentile(audible, _LOUD_PERCENTILE))
    noise = float(np.percentile(level_db, _NOISE_PERCENTILE))
    low, high = _FLOOR_RANGE_DB
    floor = min(max(noise + _FLOOR_ABOVE_NOISE_DB, loud + low), loud + high)
    return loud, max(floor, _DIGITAL_SILENCE_DB)


def _classify(frames: np.ndarray, rate: int) -> np.ndarray:
    """Index into ``_AUDIO_VISEMES`` (never REST) of each frame's shape, judged by its spectrum."""
    size = 1 << (frames.shape[1] - 1).bit_length()
    # numpy's float64 FFT is faster than its float32 one.
    spectrum = np.fft.rfft(frames * np.hanning(frames.shape[1]), n=size, axis=1)
    power = spectrum.real**2 + spectrum.imag**2
    freqs = np.fft.rfftfreq(size, 1.0 / rate)
    total = power.sum(axis=1) + 1e-20
    centroid = (power @ freqs) / total
    low_share = power[:, freqs < 1000.0].sum(axis=1) / total
    high_share = power[:, freqs > 4000.0].sum(axis=1) / total
    rounded = np.where(centroid < _U_CENTROID_HZ, _U, _O)
    open_or_wide = np.where(centroid < _E_CENTROID_HZ, _AI, _E)
    shape = np.where(low_share > _ROUNDED_SHARE, rounded, open_or_wide)
    return np.where(high_share > _SIBILANT_SHARE, _ETC, shape)


def _runs(codes: np.ndarray, strength: np.ndarray, fps: int, duration: float) -> tuple[Cue, ...]:
    """Join runs of frames with the same shape into cues; the last ends at ``duration``."""
    starts = np.flatnonzero(np.diff(codes, prepend=-1))
    ends = np.append(starts[1:], len(codes))
    means = np.add.reduceat(strength, starts) / (ends - starts)
    return tuple(
        Cue(start / fps, min(end / fps, duration), _AUDIO_VISEMES[code], float(mean))
        for start, end, code, mean in zip(
            starts.tolist(), ends.tolist(), codes[starts].tolist(), means.tolist(), strict=True
        )
    )
