from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from engine.audio import decode_audio, is_silent, resample
from engine.errors import AudioInputError
from engine.types import SAMPLE_RATE

MB = 1024 * 1024
LIMITS = {"max_bytes": 20 * MB, "max_seconds": 60.0}


def tone(seconds: float, rate: int, *, freq: float = 440.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _as_frame_array(chunk: np.ndarray, fmt: str) -> np.ndarray:
    """``chunk`` (channels × samples, float) in the layout PyAV wants for ``fmt``."""
    if fmt.startswith("s16"):
        chunk = (chunk * 32767).astype(np.int16)
    elif fmt.startswith("s32"):
        chunk = (chunk * 2_147_483_000).astype(np.int32)
    return np.ascontiguousarray(chunk if fmt.endswith("p") else chunk.T.reshape(1, -1))


def encode(
    path: Path,
    codec: str,
    signal: np.ndarray,
    *,
    rate: int = 48_000,
    layout: str = "stereo",
    container_format: str | None = None,
) -> Path:
    """Write ``signal`` (mono float) to ``path`` with a real encoder, on every channel of ``layout``."""
    with av.open(str(path), "w", format=container_format) as out:
        write_audio(out, codec, signal, rate=rate, layout=layout)
    return path


def write_audio(out: av.container.OutputContainer, codec: str, signal: np.ndarray, *, rate: int, layout: str) -> None:
    data = np.tile(signal, (av.AudioLayout(layout).nb_channels, 1))
    stream = out.add_stream(codec, rate=rate, layout=layout)
    stream.codec_context.options = {"strict": "experimental"}  # FFmpeg's own vorbis encoder
    fmt = stream.codec_context.format.name
    size = stream.codec_context.frame_size or 1024
    for start in range(0, data.shape[1], size):
        frame = av.AudioFrame.from_ndarray(
            _as_frame_array(data[:, start : start + size], fmt), format=fmt, layout=layout
        )
        frame.sample_rate = rate
        frame.pts = start
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def require_encoder(codec: str) -> None:
    try:
        av.codec.Codec(codec, "w")
    except av.FFmpegError:
        pytest.skip(f"this PyAV build has no {codec} encoder")


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)])


FORMATS = [
    ("clip.wav", "pcm_s16le", None),
    ("clip.mp3", "libmp3lame", None),
    ("clip.ogg", "libopus", "ogg"),
    ("voice.opus", "libopus", "opus"),
    ("vorbis.ogg", "vorbis", "ogg"),
    ("clip.m4a", "aac", "mp4"),
    ("clip.flac", "flac", None),
    ("clip.webm", "libopus", "webm"),
]


@pytest.mark.parametrize(("name", "codec", "container_format"), FORMATS)
def test_decodes_every_format_to_16k_mono_float(tmp_path: Path, name: str, codec: str, container_format: str | None):
    require_encoder(codec)
    path = encode(tmp_path / name, codec, tone(2.0, 48_000), container_format=container_format)

    speech = decode_audio(path, **LIMITS)

    assert speech.sample_rate == SAMPLE_RATE
    assert speech.samples.dtype == np.float32 and speech.samples.ndim == 1
    assert speech.duration == pytest.approx(2.0, abs=0.06)
    rms = float(np.sqrt(np.mean(speech.samples[1000:-1000] ** 2)))
    assert rms == pytest.approx(0.5 / np.sqrt(2), rel=0.15)
    assert dominant_frequency(speech.samples, SAMPLE_RATE) == pytest.approx(440, abs=5)


def test_loud_stereo_is_averaged_not_clipped(tmp_path: Path):
    path = encode(tmp_path / "loud.wav", "pcm_s16le", tone(1.0, 44_100, amplitude=0.9), rate=44_100)

    samples = decode_audio(path, **LIMITS).samples

    assert np.max(np.abs(samples)) == pytest.approx(0.9, abs=0.02)


def test_surround_and_mono_inputs(tmp_path: Path):
    for layout in ("mono", "5.1"):
        path = encode(tmp_path / f"{layout}.flac", "flac", tone(1.0, 8_000, freq=300), rate=8_000, layout=layout)
        speech = decode_audio(path, **LIMITS)
        assert speech.duration == pytest.approx(1.0, abs=0.01)
        assert dominant_frequency(speech.samples, SAMPLE_RATE) == pytest.approx(300, abs=5)


def test_missing_file(tmp_path: Path):
    with pytest.raises(AudioInputError, match=r"'nope\.ogg' wasn't found — please send the clip again"):
        decode_audio(tmp_path / "nope.ogg", **LIMITS)


def test_empty_file(tmp_path: Path):
    path = tmp_path / "voice.ogg"
    path.touch()
    with pytest.raises(AudioInputError, match=r"is empty \(0 bytes\).*send it again"):
        decode_audio(path, **LIMITS)


def test_size_is_checked_before_decoding(tmp_path: Path):
    path = tmp_path / "big.bin"
    path.write_bytes(b"\0" * (3 * MB // 2))  # not audio either: the size must be what is reported
    with pytest.raises(AudioInputError, match=r"is 1\.5 MB, over the 1 MB limit — please send a shorter clip"):
        decode_audio(path, max_bytes=MB, max_seconds=60)


def _image(tmp_path: Path, fmt: str) -> Path:
    path = tmp_path / f"picture.{fmt.lower()}"
    Image.new("RGB", (32, 32), "red").save(path, format=fmt)
    return path


def _pdf(tmp_path: Path) -> Path:
    path = tmp_path / "doc.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
    return path


def _zip(tmp_path: Path) -> Path:
    path = tmp_path / "archive.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("song.txt", "la la la")
    return path


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda tmp: _image(tmp, "PNG"), "a PNG image"),
        (lambda tmp: _image(tmp, "JPEG"), "a JPEG image"),
        (lambda tmp: _image(tmp, "GIF"), "a GIF image"),
        (lambda tmp: _image(tmp, "WEBP"), "a WebP image"),
        (_pdf, "a PDF document"),
        (_zip, "a ZIP archive"),
    ],
)
def test_names_what_a_non_audio_file_looks_like(tmp_path: Path, make, kind: str):
    path = make(tmp_path)
    with pytest.raises(AudioInputError, match=rf"looks like {kind}.*, not audio — please send a voice message"):
        decode_audio(path, **LIMITS)


def test_unreadable_bytes(tmp_path: Path):
    path = tmp_path / "clip.mp3"
    path.write_bytes(np.random.default_rng(1).bytes(5000))
    with pytest.raises(AudioInputError, match=r"Couldn't read 'clip\.mp3' as audio — .*damaged.*mp3, ogg"):
        decode_audio(path, **LIMITS)


def test_text_and_playlists_are_not_probed_as_media(tmp_path: Path):
    """FFmpeg would read a text file as ANSI art, and follow a playlist to other files."""
    wav = encode(tmp_path / "secret.wav", "pcm_s16le", tone(1.0, 16_000))
    playlist = tmp_path / "clip.m3u8"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:{wav}\n#EXT-X-ENDLIST\n")
    text = tmp_path / "notes.txt"
    text.write_text("hello there, this is not a recording\n" * 20)
    for path in (playlist, text):
        with pytest.raises(AudioInputError, match=r"Couldn't read .* as audio"):
            decode_audio(path, **LIMITS)


def test_video_without_sound(tmp_path: Path):
    path = tmp_path / "silent-movie.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for index in range(10):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), index * 20, np.uint8), format="rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    with pytest.raises(AudioInputError, match=r"has no sound track — it looks like a video without audio"):
        decode_audio(path, **LIMITS)


def _wav_header(rate: int, data_size: int) -> bytes:
    """A 16-bit mono WAV header; 0xFFFFFFFF sizes are what streaming writers leave."""
    riff_size = 0xFFFFFFFF if data_size == 0xFFFFFFFF else data_size + 36
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return b"RIFF" + struct.pack("<I", riff_size) + b"WAVEfmt " + fmt + b"data" + struct.pack("<I", data_size)


def test_truncated_file_with_no_samples(tmp_path: Path):
    path = tmp_path / "cut.wav"
    path.write_bytes(_wav_header(16_000, 32_000))  # promises a second of sound, holds none
    with pytest.raises(AudioInputError, match=r"'cut\.wav' seems to be damaged or cut off: no sound could be decoded"):
        decode_audio(path, **LIMITS)


def test_truncated_file_keeps_what_decodes(tmp_path: Path):
    full = encode(tmp_path / "full.mp3", "libmp3lame", tone(2.0, 48_000)).read_bytes()
    path = tmp_path / "half.mp3"
    path.write_bytes(full[: len(full) // 2])

    assert decode_audio(path, **LIMITS).duration == pytest.approx(1.0, abs=0.1)


def test_corrupt_middle_is_skipped(tmp_path: Path):
    data = bytearray(encode(tmp_path / "full.flac", "flac", tone(3.0, 48_000)).read_bytes())
    middle = len(data) // 2
    data[middle : middle + 3000] = np.random.default_rng(0).bytes(3000)
    path = tmp_path / "scratched.flac"
    path.write_bytes(bytes(data))

    speech = decode_audio(path, **LIMITS)

    assert 2.0 < speech.duration <= 3.0
    assert dominant_frequency(speech.samples[-8000:], SAMPLE_RATE) == pytest.approx(440, abs=5)  # the end is there


def test_format_changes_mid_stream(tmp_path: Path):
    """``cat a.mp3 b.mp3`` gives one stream whose rate and channels change half-way."""
    first = encode(tmp_path / "a.mp3", "libmp3lame", tone(1.0, 44_100), rate=44_100, layout="mono")
    second = encode(tmp_path / "b.mp3", "libmp3lame", tone(1.5, 48_000, freq=880), rate=48_000, layout="stereo")
    path = tmp_path / "joined.mp3"
    path.write_bytes(first.read_bytes() + second.read_bytes())

    speech = decode_audio(path, **LIMITS)

    assert speech.duration == pytest.approx(2.5, abs=0.1)
    assert dominant_frequency(speech.samples[: SAMPLE_RATE // 2], SAMPLE_RATE) == pytest.approx(440, abs=5)
    assert dominant_frequency(speech.samples[-SAMPLE_RATE // 2 :], SAMPLE_RATE) == pytest.approx(880, abs=5)


def test_declared_duration_over_the_cap(tmp_path: Path):
    path = encode(tmp_path / "long.flac", "flac", tone(95.0, 8_000), rate=8_000, layout="mono")
    with pytest.raises(
        AudioInputError, match=r"The clip is 1 min 35 s long, but the limit is 1 minute — please trim it"
    ):
        decode_audio(path, max_bytes=20 * MB, max_seconds=60)


def test_decoding_stops_past_the_cap_when_no_duration_is_declared(tmp_path: Path):
    """A browser's MediaRecorder writes WebM as a stream: no duration in the header."""
    recorded = _WriteOnly()
    with av.open(recorded, "w", format="webm") as out:
        write_audio(out, "libopus", tone(5.0, 48_000), rate=48_000, layout="mono")
    path = tmp_path / "recording.webm"
    path.write_bytes(recorded.data)
    with av.open(str(path)) as container:
        assert container.duration is None and container.streams.audio[0].duration is None

    with pytest.raises(AudioInputError, match=r"The clip is longer than the 2 seconds limit — please trim it"):
        decode_audio(path, max_bytes=20 * MB, max_seconds=2)
    assert decode_audio(path, max_bytes=20 * MB, max_seconds=10).duration == pytest.approx(5.0, abs=0.02)


class _WriteOnly:
    """A file PyAV can't seek in, like a live upload."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, chunk: bytes) -> int:
        self.data += chunk
        return len(chunk)


def test_silent_clip(tmp_path: Path):
    quiet = np.random.default_rng(2).normal(0, 10 ** (-75 / 20), 16_000).astype(np.float32)
    for name, signal in (("zeros.wav", np.zeros(16_000, np.float32)), ("hiss.wav", quiet)):
        path = encode(tmp_path / name, "pcm_s16le", signal, rate=16_000, layout="mono")
        with pytest.raises(AudioInputError, match=r"The clip is silent — .*record it again"):
            decode_audio(path, **LIMITS)


def test_is_silent():
    assert is_silent(np.zeros(0, np.float32))
    assert is_silent(np.zeros(1600, np.float32))
    click = np.zeros(160_000, np.float32)
    click[100] = 0.2  # one click in ten seconds of nothing
    assert is_silent(click)
    assert not is_silent(tone(0.1, 16_000, amplitude=0.05))


def test_resample_keeps_length_and_pitch():
    source = (tone(1.0, 22_050, freq=500) * 32767).astype(np.int16)

    out = resample(source, 22_050)

    assert out.dtype == np.float32
    assert len(out) == pytest.approx(16_000, abs=2)
    assert dominant_frequency(out, SAMPLE_RATE) == pytest.approx(500, abs=2)
    assert np.max(np.abs(out)) == pytest.approx(0.5, abs=0.01)
