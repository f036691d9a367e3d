"""Decode a user's audio file into the engine's 16 kHz mono float32 speech, checking it first."""

from __future__ import annotations

import stat
import wave
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from engine.errors import AudioInputError
from engine.media_input import open_input
from engine.types import SAMPLE_RATE, Speech

#: Magic bytes of files people send by mistake, with what to call them.
_NOT_AUDIO_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
)
_SNIFF_BYTES = 16

#: Demuxers we let FFmpeg use: audio and common video containers, nothing that follows links to
#: other files or URLs (playlists, concat lists), so an upload can't make us read anything else.
_CONTAINER_OPTIONS = {
    "format_whitelist": "wav,w64,mp3,ogg,matroska,mov,flac,aac,aiff,amr,caf,wv,asf,au,ac3,avi,mpeg,mpegts,flv",
    "protocol_whitelist": "file",
}

#: Below both levels (dBFS) a clip has nothing to animate.
_SILENT_PEAK_DB = -50.0
_SILENT_RMS_DB = -60.0

#: Encoders pad a clip with a few dozen milliseconds, so allow a little over the cap.
_DURATION_GRACE_SECONDS = 0.5

#: Samples per resampled chunk: big chunks keep the per-chunk Python work off the profile.
_CHUNK = SAMPLE_RATE

_FORMATS_HINT = "a voice message or an audio file (mp3, ogg, opus, wav, m4a, flac or webm)"


def decode_audio(path: Path, *, max_bytes: int, max_seconds: float) -> Speech:
    """Decode ``path`` to mono float32 at ``SAMPLE_RATE``; raise ``AudioInputError`` when unusable."""
    path = Path(path)
    check_file(path, max_bytes)
    _check_signature(path)
    try:
        container = open_input(path, container_options=_CONTAINER_OPTIONS)
    except av.FFmpegError as error:
        raise AudioInputError(
            f"Couldn't read '{path.name}' as audio — it may be damaged or in a format we don't support. "
            f"Please send {_FORMATS_HINT}."
        ) from error
    with container:
        stream = _audio_stream(container, path)
        limit = max_seconds + _DURATION_GRACE_SECONDS
        declared = _declared_duration(container, stream)
        if declared is not None and declared > limit:
            raise _too_long(max_seconds, declared)
        samples = _decode(container, stream, max_samples=int(limit * SAMPLE_RATE), max_seconds=max_seconds)
    if samples.size == 0:
        raise AudioInputError(
            f"'{path.name}' seems to be damaged or cut off: no sound could be decoded from it. "
            "Please record or export it again and resend it."
        )
    if is_silent(samples):
        raise AudioInputError(
            "The clip is silent — there is nothing to lip-sync. "
            "Check that the right microphone is selected and record it again."
        )
    return Speech(samples=samples)


def is_silent(samples: np.ndarray) -> bool:
    """True when the signal's peak or its RMS level is too low to hear."""
    if samples.size == 0:
        return True
    peak = float(np.max(np.abs(samples)))
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return _to_db(peak) < _SILENT_PEAK_DB or _to_db(rms) < _SILENT_RMS_DB


def resample(samples: np.ndarray, rate: int, *, target_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Resample mono ``samples`` (float in [-1, 1], or int16) from ``rate`` to ``target_rate`` as float32."""
    if samples.size == 0:
        return np.zeros(0, dtype=np.float32)
    scale = 1 / 32768 if samples.dtype == np.int16 else 1.0
    data = np.ascontiguousarray(samples.reshape(1, -1) * np.float32(scale), dtype=np.float32)
    frame = av.AudioFrame.from_ndarray(data, format="flt", layout="mono")
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="flt", layout="mono", rate=target_rate)
    chunks = [_frame_samples(out) for out in [*resampler.resample(frame), *resampler.resample(None)]]
    return np.clip(np.concatenate(chunks), -1.0, 1.0) if chunks else np.zeros(0, dtype=np.float32)


def check_file(path: Path, max_bytes: int) -> None:
    """Refuse anything but a regular file of 1 byte to ``max_bytes``, without reading it: a FIFO
    or a device would block the reader forever, and the size must be known before hashing."""
    try:
        info = path.stat()
    except (OSError, ValueError):
        raise AudioInputError(f"The audio file '{path.name}' wasn't found — please send the clip again.") from None
    if not stat.S_ISREG(info.st_mode):
        raise AudioInputError(f"'{path.name}' is not a regular file (a pipe, a device or a folder) — "
                              f"please send {_FORMATS_HINT}.")
    size = info.st_size
    if size == 0:
        raise AudioInputError(
            f"The audio file '{path.name}' is empty (0 bytes) — the upload may have failed. Please send it again."
        )
    if size > max_bytes:
        raise AudioInputError(
            f"The audio file is {_megabytes(size)}, over the {_megabytes(max_bytes)} limit — "
            "please send a shorter clip or a compressed format such as mp3 or ogg."
        )


def _check_signature(path: Path) -> None:
    with path.open("rb") as file:
        head = file.read(_SNIFF_BYTES)
    kind = _sniff_not_audio(head)
    if kind is not None:
        raise AudioInputError(f"'{path.name}' looks like {kind}, not audio — please send {_FORMATS_HINT}.")


def _sniff_not_audio(head: bytes) -> str | None:
    for signature, kind in _NOT_AUDIO_SIGNATURES:
        if head.startswith(signature):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    return None


def _audio_stream(container: av.container.InputContainer, path: Path) -> av.audio.stream.AudioStream:
    if container.streams.audio:
        return container.streams.audio[0]
    if container.streams.video:
        raise AudioInputError(
            f"'{path.name}' has no sound track — it looks like a video without audio. "
            "Please send a clip with sound, or record a voice message."
        )
    raise AudioInputError(f"Couldn't find any audio in '{path.name}' — please send {_FORMATS_HINT}.")


def _declared_duration(container: av.container.InputContainer, stream: av.audio.stream.AudioStream) -> float | None:
    """The duration the file claims, in seconds, when it claims one (streams from browsers often don't)."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _decode(
    container: av.container.InputContainer,
    stream: av.audio.stream.AudioStream,
    *,
    max_samples: int,
    max_seconds: float,
) -> np.ndarray:
    chunks: list[np.ndarray] = []
    count = 0
    for chunk in _resampled_chunks(container, stream):
        chunks.append(chunk)
        count += chunk.size
        if count > max_samples:
            raise _too_long(max_seconds)  # the real length would take decoding it all
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    # A float file can hold NaN and infinities; they would poison every level computed later.
    samples = np.nan_to_num(np.concatenate(chunks), nan=0.0, posinf=1.0, neginf=-1.0)
    peak = float(np.max(np.abs(samples)))
    # A surround downmix of loud channels can pass full scale: turn it down rather than clip it.
    return samples / np.float32(peak) if peak > 1.0 else samples


def _resampled_chunks(
    container: av.container.InputContainer, stream: av.audio.stream.AudioStream
) -> Iterator[np.ndarray]:
    """Yield mono float32 chunks at ``SAMPLE_RATE``, following changes of format mid-stream (chained Ogg)."""
    downmix: _Downmix | None = None
    setup: tuple[str, str, int] | None = None
    for frame in _decoded_frames(container, stream):
        frame_setup = (frame.format.name, frame.layout.name, frame.sample_rate)
        if downmix is None or frame_setup != setup:
            yield from _flush(downmix)
            downmix = _Downmix(frame.layout)
            setup = frame_setup
        frame.pts = None  # resample by sample count; broken timestamps don't matter here
        for out in downmix.resample(frame):
            yield _frame_samples(out)
    yield from _flush(downmix)


class _Downmix:
    """To ``SAMPLE_RATE`` as packed float (PyAV reads one plane too many of a planar frame with 8 or
    more channels, and crashes). Mono and stereo keep their channels, to be averaged: that can't clip.
    More channels go through swresample's downmix to mono, which keeps the centre channel, where
    dialogue is, at full level; a layout it can't downmix (many channels in no known order) keeps
    them all, to be averaged."""

    def __init__(self, layout: av.AudioLayout) -> None:
        self._layout = layout
        self._resampler = self._to(layout if layout.nb_channels <= 2 else "mono")
        self._fallback = layout.nb_channels > 2

    def resample(self, frame: av.AudioFrame | None) -> list[av.AudioFrame]:
        try:
            return self._resampler.resample(frame)
        except av.ArgumentError:
            if not self._fallback or frame is None:
                raise
            self._resampler = self._to(self._layout)
            return self._resampler.resample(frame)
        finally:
            self._fallback = False  # only the first frame tells whether the downmix works

    @staticmethod
    def _to(layout: av.AudioLayout | str) -> av.AudioResampler:
        return av.AudioResampler(format="flt", layout=layout, rate=SAMPLE_RATE, frame_size=_CHUNK)


def _decoded_frames(
    container: av.container.InputContainer, stream: av.audio.stream.AudioStream
) -> Iterator[av.AudioFrame]:
    """Frames of ``stream``: a packet that won't decode is skipped, and a file that can't be read on ends there."""
    try:
        for packet in container.demux(stream):
            try:
                yield from packet.decode()
            except av.InvalidDataError:
                continue
    except av.FFmpegError:
        return


def _flush(downmix: _Downmix | None) -> Iterator[np.ndarray]:
    if downmix is not None:
        for out in downmix.resample(None):
            yield _frame_samples(out)


def _frame_samples(frame: av.AudioFrame) -> np.ndarray:
    """Mono float32 samples of a packed float frame, its channels averaged (any channel count)."""
    channels = frame.layout.nb_channels
    samples = frame.to_ndarray().reshape(-1)
    return samples if channels == 1 else samples.reshape(-1, channels).mean(axis=1, dtype=np.float32)


def _too_long(max_seconds: float, seconds: float | None = None) -> AudioInputError:
    limit = _duration_text(max_seconds)
    length = (
        f"is {_duration_text(seconds)} long, but the limit is {limit}"
        if seconds
        else f"is longer than the {limit} limit"
    )
    return AudioInputError(f"The clip {length} — please trim it or send a shorter one.")


def _duration_text(seconds: float) -> str:
    whole = round(seconds)
    minutes, secs = divmod(whole, 60)
    if minutes == 0:
        return f"{secs} second{'s' if secs != 1 else ''}"
    if secs == 0:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{minutes} min {secs} s"


def _megabytes(size: int) -> str:
    megabytes = size / (1024 * 1024)
    return f"{megabytes:.0f} MB" if megabytes >= 10 or megabytes.is_integer() else f"{megabytes:.1f} MB"


def _to_db(level: float) -> float:
    return 20.0 * float(np.log10(max(level, 1e-12)))


def write_wav(path: Path, samples: np.ndarray, rate: int = SAMPLE_RATE) -> Path:
    """Save mono float samples in [-1, 1] as a 16-bit PCM WAV file."""
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return path
