from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest

from engine.encode import encode_mp4, probe

RATE = 16_000


def tone(seconds: float, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def moving_square(count: int, width: int, height: int) -> Iterator[np.ndarray]:
    for i in range(count):
        frame = np.full((height, width, 3), 40, np.uint8)
        x = (i * 4) % (width - 16)
        frame[height // 2 - 8 : height // 2 + 8, x : x + 16] = (250, 200, 0)
        yield frame


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_encodes_h264_and_aac_of_the_asked_shape(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    seen: list[int] = []
    written = encode_mp4(
        moving_square(50, 160, 96), tone(2.0), RATE, fps=25, width=160, height=96, out_path=out, on_frame=seen.append
    )
    assert written == 50 and seen == list(range(1, 51))
    info = probe(out)
    assert (info["video_codec"], info["audio_codec"]) == ("h264", "aac")
    assert (info["width"], info["height"], info["fps"], info["frames"]) == (160, 96, 25.0, 50)
    assert info["sample_rate"] == RATE and info["channels"] == 1
    assert abs(info["video_duration"] - info["audio_duration"]) <= 1 / 25
    assert abs(info["video_duration"] - 2.0) <= 1 / 25
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.profile == "High"
        assert stream.codec_context.pix_fmt == "yuv420p"
        decoded = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
    assert len(decoded) == 50
    # The square moved: frames differ, and the picture survived the colour conversion.
    assert not np.array_equal(decoded[0], decoded[10])
    assert abs(int(decoded[0][5, 5, 0]) - 40) <= 4
    assert leftovers(tmp_path) == ["clip.mp4"]


def test_audio_plays_back_as_given(tmp_path: Path) -> None:
    out = tmp_path / "tone.mp4"
    encode_mp4(moving_square(25, 64, 64), tone(1.0), RATE, fps=25, width=64, height=64, out_path=out)
    with av.open(str(out)) as container:
        samples = np.concatenate([f.to_ndarray()[0] for f in container.decode(audio=0)])
    assert abs(len(samples) - RATE) <= 1024  # one AAC frame at most
    spectrum = np.abs(np.fft.rfft(samples[2000:14000]))
    assert abs(np.argmax(spectrum) * RATE / 12000 - 440) < 5


def test_yuv420p_frames_are_accepted(tmp_path: Path) -> None:
    yuv = [
        av.VideoFrame.from_ndarray(f, format="rgb24").reformat(format="yuv420p").to_ndarray()
        for f in moving_square(10, 64, 48)
    ]
    out = tmp_path / "yuv.mp4"
    assert encode_mp4(iter(yuv), tone(0.4), RATE, fps=25, width=64, height=48, out_path=out) == 10
    assert probe(out)["frames"] == 10


def test_a_one_frame_video_works(tmp_path: Path) -> None:
    out = tmp_path / "one.mp4"
    assert encode_mp4(moving_square(1, 64, 64), tone(0.04), RATE, fps=25, width=64, height=64, out_path=out) == 1
    info = probe(out)
    assert info["frames"] == 1 and info["video_codec"] == "h264" and info["audio_codec"] == "aac"


def test_a_rate_aac_does_not_take_is_resampled(tmp_path: Path) -> None:
    out = tmp_path / "odd.mp4"
    encode_mp4(moving_square(25, 64, 64), tone(1.0, 15_000), 15_000, fps=25, width=64, height=64, out_path=out)
    info = probe(out)
    assert info["sample_rate"] == 16_000
    assert abs(info["audio_duration"] - 1.0) <= 1 / 25


def test_failing_frames_leave_no_file(tmp_path: Path) -> None:
    def frames() -> Iterator[np.ndarray]:
        yield from moving_square(20, 64, 64)
        raise RuntimeError("renderer broke")

    out = tmp_path / "broken.mp4"
    with pytest.raises(RuntimeError, match="renderer broke"):
        encode_mp4(frames(), tone(2.0), RATE, fps=25, width=64, height=64, out_path=out)
    assert leftovers(tmp_path) == []


def test_cancel_from_on_frame_leaves_no_file_and_keeps_the_old_one(tmp_path: Path) -> None:
    class Cancelled(Exception):
        pass

    def cancel_at_ten(n: int) -> None:
        if n == 10:
            raise Cancelled

    out = tmp_path / "clip.mp4"
    out.write_bytes(b"previous")
    with pytest.raises(Cancelled):
        encode_mp4(
            moving_square(50, 64, 64), tone(2.0), RATE,
            fps=25, width=64, height=64, out_path=out, on_frame=cancel_at_ten,
        )
    assert leftovers(tmp_path) == ["clip.mp4"] and out.read_bytes() == b"previous"


@pytest.mark.parametrize(
    ("frame", "message"),
    [(np.zeros((64, 32, 3), np.uint8), "does not match"), (np.zeros((64, 64, 3), np.float32), "uint8")],
)
def test_bad_frames_are_refused(tmp_path: Path, frame: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_mp4(iter([frame]), tone(0.1), RATE, fps=25, width=64, height=64, out_path=tmp_path / "x.mp4")
    assert leftovers(tmp_path) == []


def test_no_frames_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one frame"):
        encode_mp4(iter([]), tone(0.1), RATE, fps=25, width=64, height=64, out_path=tmp_path / "x.mp4")
    assert leftovers(tmp_path) == []


def test_reused_frame_buffers_carry_each_frame_exactly(tmp_path: Path) -> None:
    """Frames go through a small pool of reused buffers, whose rows are padded past this width."""
    count, width, height = 40, 202, 98
    frames = [av.VideoFrame.from_ndarray(f, format="rgb24").reformat(format="yuv420p").to_ndarray()
              for f in moving_square(count, width, height)]
    out = tmp_path / "pooled.mp4"
    encode_mp4(iter(frames), tone(count / 25), RATE, fps=25, width=width, height=height, out_path=out, crf=1)
    with av.open(str(out)) as container:
        decoded = [frame.to_ndarray() for frame in container.decode(video=0)]
    assert len(decoded) == count
    # Nearly lossless: a frame left over from an earlier one would be off by the square, ~200 levels.
    errors = [int(np.abs(got.astype(int) - sent).max()) for got, sent in zip(decoded, frames, strict=True)]
    assert max(errors) <= 2, errors
