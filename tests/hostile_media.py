"""A corpus of hostile media, made in the tests: what members and attackers upload.

Every file is small (a second or less of sound), so the whole corpus is written in
well under a second and each case decodes in milliseconds.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

#: Channel layouts FFmpeg names, from mono to 22.2 (24 channels).
LAYOUTS = ("mono", "stereo", "2.1", "3.0", "quad", "5.0", "5.1", "6.1", "7.1", "7.1(wide)", "octagonal",
           "hexadecagonal", "22.2")
#: Containers and codecs that carry up to eight channels, as members send them (FFmpeg's own
#: Vorbis encoder writes stereo at most, so Ogg carries the multichannel Opus).
EIGHT_CHANNEL_FORMATS = (("opus", "libopus"), ("webm", "libopus"), ("flac", "flac"), ("m4a", "aac"),
                         ("wav", "pcm_s16le"), ("mka", "pcm_f32le"))
RATES = (8_000, 11_025, 16_000, 22_050, 32_000, 44_100, 48_000, 88_200, 96_000, 176_400, 192_000)

Maker = Callable[[Path], Path]


def tone(seconds: float, rate: int, amplitude: float = 0.4) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2).astype(np.float32)


def encode(path: Path, codec: str, *, layout: str = "mono", rate: int = 48_000, seconds: float = 0.6,
           container_format: str | None = None) -> Path:
    """A real encoder's file: ``seconds`` of a tone on every channel of ``layout``.

    Frames are handed over packed, whatever the codec takes: PyAV converts them, and
    a planar frame of eight or more channels is the very thing that crashed PyAV.
    """
    channels = av.AudioLayout(layout).nb_channels
    samples = np.repeat(tone(seconds, rate)[:, np.newaxis], channels, axis=1)
    with av.open(str(path), "w", format=container_format) as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        assert isinstance(stream, av.audio.stream.AudioStream)
        stream.codec_context.options = {"strict": "experimental", "mapping_family": "255"} \
            if codec == "libopus" and channels > 8 else {"strict": "experimental"}
        size = 1024
        for start in range(0, len(samples), size):
            chunk = np.ascontiguousarray(samples[start:start + size].reshape(1, -1))
            frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout=layout)
            frame.sample_rate, frame.pts = rate, start
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def in_format(extension: str, codec: str | None, **kwargs: object) -> Maker:
    container = {"opus": "ogg", "m4a": "mp4", "mka": "matroska", "webm": "webm"}.get(extension)
    codec = codec or {"mp3": "libmp3lame"}[extension]
    return lambda folder: encode(folder / f"clip.{extension}", codec, container_format=container, **kwargs)  # type: ignore[arg-type]


def wav_header(*, channels: int, rate: int, data_bytes: int, riff_bytes: int, bits: int = 16, tag: int = 1) -> bytes:
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    return (b"RIFF" + struct.pack("<I", riff_bytes) + b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + b"data" + struct.pack("<I", data_bytes))


def raw_wav(path: Path, channels: int, *, rate: int = 16_000, claim: int | None = None) -> Path:
    """A plain PCM WAV (no channel mask: the channels have no known order); ``claim``: the data
    size the header states instead of the real one."""
    pcm = (np.repeat(tone(0.5, rate)[:, np.newaxis], channels, axis=1) * 32767).astype("<i2").tobytes()
    size = len(pcm) if claim is None else claim
    path.write_bytes(wav_header(channels=channels, rate=rate, data_bytes=size, riff_bytes=min(size + 36, 2**32 - 1))
                     + pcm)
    return path


def unordered(channels: int) -> Maker:
    return lambda folder: raw_wav(folder / "clip.wav", channels)


def float_wav(path: Path, values: np.ndarray) -> Path:
    """A 32-bit float WAV: it may hold NaN, infinities and levels far past full scale."""
    data = values.astype("<f4").tobytes()
    path.write_bytes(wav_header(channels=1, rate=16_000, data_bytes=len(data), riff_bytes=len(data) + 36, bits=32,
                                tag=3) + data)
    return path


def with_foreign_tags(path: Path) -> Path:
    """A WAV whose title tag (LIST/INFO) is not UTF-8, as old taggers and damaged files write."""
    pcm = (tone(0.5, 16_000) * 32767).astype("<i2").tobytes()
    title = b"\xe9t\xe9 \x80\x81!\x00"  # Latin-1 "été" and two bytes no encoding maps (even length)
    info = b"INFO" + b"INAM" + struct.pack("<I", len(title)) + title
    header = wav_header(channels=1, rate=16_000, data_bytes=len(pcm), riff_bytes=36 + 8 + len(info) + len(pcm))
    fmt_end = header.index(b"data")
    path.write_bytes(header[:fmt_end] + b"LIST" + struct.pack("<I", len(info)) + info + header[fmt_end:] + pcm)
    return path


def with_cover_art(path: Path, mb: int) -> Path:
    """An MP3 behind an ID3v2.3 tag holding a cover picture of ``mb`` megabytes."""
    picture = b"\x89PNG\r\n\x1a\n" + os.urandom(mb * 2**20)
    frame = b"\x00image/png\x00\x03cover\x00" + picture
    tag_body = b"APIC" + struct.pack(">I", len(frame)) + b"\x00\x00" + frame
    syncsafe = bytes((len(tag_body) >> shift) & 0x7F for shift in (21, 14, 7, 0))
    mp3 = encode(path.with_suffix(".tmp.mp3"), "libmp3lame", rate=44_100)
    path.write_bytes(b"ID3\x03\x00\x00" + syncsafe + tag_body + mp3.read_bytes())
    mp3.unlink()
    return path


def truncated(maker: Maker, keep: float | int) -> Maker:
    """``maker``'s file cut short: to a fraction of its size, or to a number of bytes."""
    def make(folder: Path) -> Path:
        path = maker(folder)
        data = path.read_bytes()
        end = int(len(data) * keep) if isinstance(keep, float) else keep
        path.write_bytes(data[:end])
        return path
    return make


def fifo(folder: Path) -> Path:
    path = folder / "voice.wav"
    os.mkfifo(path)  # reading it would wait for a writer forever
    return path


def linked(target: Path) -> Maker:
    def make(folder: Path) -> Path:
        path = folder / "voice.ogg"
        path.symlink_to(target)
        return path
    return make


def written(name: str, data: bytes) -> Maker:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path
    return make


def _corpus() -> dict[str, Maker]:
    cases: dict[str, Maker] = {}
    for layout in LAYOUTS:
        cases[f"wav {layout}"] = in_format("wav", "pcm_s16le", layout=layout)
    for extension, codec in EIGHT_CHANNEL_FORMATS:
        for layout in ("5.1", "7.1"):
            cases[f"{extension} {layout}"] = in_format(extension, codec, layout=layout,
                                                       rate=48_000 if codec == "libopus" else 44_100)
    for channels in (3, 8, 9, 32, 64):
        cases[f"wav {channels} unordered channels"] = unordered(channels)
    for rate in RATES:
        cases[f"flac at {rate} Hz"] = in_format("flac", "flac", rate=rate)
        cases[f"wav at {rate} Hz"] = in_format("wav", "pcm_s16le", rate=rate, layout="stereo")
    for rate in (8_000, 22_050, 48_000):
        cases[f"mp3 at {rate} Hz"] = in_format("mp3", None, rate=rate)
        cases[f"ogg at {rate} Hz"] = in_format("ogg", "vorbis", rate=rate, layout="stereo")
    for extension, encoder in (("ogg", "vorbis"), ("opus", "libopus"), ("flac", "flac"), ("m4a", "aac"),
                               ("wav", "pcm_s16le"), ("mka", "pcm_f32le"), ("mp3", None)):
        whole = in_format(extension, encoder, rate=48_000, layout="stereo")
        for keep in (0.6, 0.1, 200, 44, 4, 1):
            cases[f"{extension} cut to {keep}"] = truncated(whole, keep)
    cases["wav claiming an hour"] = lambda f: raw_wav(f / "clip.wav", 1, claim=16_000 * 2 * 3600)
    cases["wav claiming nothing"] = lambda f: raw_wav(f / "clip.wav", 1, claim=0)
    cases["wav of a stream (size unknown)"] = lambda f: raw_wav(f / "clip.wav", 2, claim=2**32 - 1)
    cases["float wav with NaN and infinities"] = lambda f: float_wav(
        f / "clip.wav", np.where(np.arange(8000) % 100 == 0, np.nan, tone(0.5, 16_000)).astype(np.float32)
        + np.where(np.arange(8000) == 4000, np.inf, 0).astype(np.float32))
    cases["float wav far past full scale"] = lambda f: float_wav(f / "clip.wav", tone(0.5, 16_000) * 1000)
    cases["float wav only NaN"] = lambda f: float_wav(f / "clip.wav", np.full(8000, np.nan, np.float32))
    cases["mp3 with 8 MB of cover art"] = lambda f: with_cover_art(f / "clip.mp3", 8)
    cases["wav with tags that aren't UTF-8"] = lambda f: with_foreign_tags(f / "clip.wav")
    cases["zero-length"] = written("clip.ogg", b"")
    cases["one byte"] = written("clip.ogg", b"\x00")
    cases["text"] = written("clip.mp3", b"not audio at all\n" * 50)
    cases["a PNG named .ogg"] = written("clip.ogg", b"\x89PNG\r\n\x1a\n" + bytes(200))
    cases["random bytes"] = written("clip.m4a", bytes(np.random.default_rng(7).integers(0, 256, 4096, np.uint8)))
    cases["FIFO"] = fifo
    cases["symlink to a FIFO"] = lambda f: linked(fifo(f))(f)
    cases["character device"] = lambda f: Path(os.devnull)
    cases["directory"] = lambda f: (f / "clip.ogg").mkdir() or f / "clip.ogg"  # type: ignore[func-returns-value]
    cases["missing"] = lambda f: f / "gone.ogg"
    return cases


CORPUS = _corpus()
#: Cases that must render: every layout, channel count and rate, and lying headers.
MUST_DECODE = frozenset(name for name in CORPUS if not any(
    word in name for word in ("cut to", "byte", "zero", "text", "PNG", "random", "FIFO", "device", "directory",
                              "missing", "only NaN")))
#: Reading these would block: only ever checked in a child process with a time limit.
BLOCKING = frozenset({"FIFO", "symlink to a FIFO"})
