"""Make an MP4 fit an upload limit (a Discord guild's, a Slack workspace's).

A video over the limit is re-encoded at the bitrate the limit allows; if x264 still
overshoots, or that bitrate would be too low to look like anything, the picture is
made smaller too. The audio stream is copied as it is, so speech never suffers, and
the result stays H.264 + AAC in an MP4 with the same frame rate and length.
"""

from __future__ import annotations

import os
import uuid
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from engine.errors import RenderError

#: Picture sizes tried, as fractions of the original width and height.
_SCALES = (1.0, 0.75, 0.5, 0.375, 0.25)
#: Below this a talking face turns to mush: make the picture smaller instead.
_MIN_VIDEO_BITS_PER_PIXEL = 0.02
_MIN_VIDEO_BIT_RATE = 24_000
#: Container overhead and x264's rate-control overshoot, kept free under the limit.
_HEADROOM = 0.90
_ATTEMPTS = 4


class VideoTooLargeError(RenderError):
    """Even the smallest re-encode is over the limit; the message says so plainly."""


def fit_to_limit(path: Path, limit: int, folder: Path | None = None) -> Path:
    """``path`` itself if it is within ``limit`` bytes, else a smaller re-encode in ``folder``
    (default: beside ``path``).

    Raises ``VideoTooLargeError`` when no re-encode fits.
    """
    size = path.stat().st_size
    if size <= limit:
        return path
    with av.open(str(path)) as container:
        duration = container.duration / av.time_base if container.duration else 0.0
        video = container.streams.video[0]
        width, height = video.codec_context.width, video.codec_context.height
        fps = float(video.average_rate) if video.average_rate else 25.0
        audio_bits = sum(s.bit_rate or 0 for s in container.streams.audio) * duration
    budget = limit * 8 * _HEADROOM - audio_bits
    target = (folder or path.parent) / f"{path.stem}.fit-{limit}{path.suffix}"
    for _ in range(_ATTEMPTS):
        bit_rate = int(budget / max(duration, 0.1))
        if bit_rate < _MIN_VIDEO_BIT_RATE:
            break
        scale = _largest_scale(bit_rate, width * height * fps)
        _reencode(path, target, _even(width * scale), _even(height * scale), bit_rate)
        written = target.stat().st_size
        if written <= limit:
            return target
        budget *= limit / written * _HEADROOM  # x264 overshot: aim lower by as much
    target.unlink(missing_ok=True)
    raise VideoTooLargeError(
        f"The video is {_megabytes(size)} and does not fit the upload limit of {_megabytes(limit)} "
        "even at a lower quality and size. Try a shorter clip."
    )


def _reencode(source: Path, target: Path, width: int, height: int, bit_rate: int) -> None:
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        with (av.open(str(source)) as src,
              av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as dst):
            in_video = src.streams.video[0]
            in_audio = src.streams.audio[0] if src.streams.audio else None
            out_video = _video_stream(dst, in_video, width, height, bit_rate)
            out_audio = dst.add_stream_from_template(in_audio) if in_audio is not None else None
            streams = [s for s in (in_video, in_audio) if s is not None]
            for packet in src.demux(*streams):
                if packet.stream is in_audio:
                    if packet.dts is not None and out_audio is not None:
                        packet.stream = out_audio
                        dst.mux(packet)
                    continue
                for decoded in packet.decode():
                    assert isinstance(decoded, av.VideoFrame)  # only the video stream gets here
                    frame = decoded.reformat(width=width, height=height, format="yuv420p")
                    frame.pict_type = av.video.frame.PictureType.NONE
                    dst.mux(out_video.encode(frame))
            dst.mux(out_video.encode(None))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _video_stream(container: Any, source: Any, width: int, height: int, bit_rate: int) -> Any:
    rate = source.average_rate or Fraction(25)
    # A capped average bitrate (with a VBV buffer of two seconds) keeps x264 close to the budget.
    stream = container.add_stream("libx264", rate=rate, options={
        "preset": "veryfast", "profile": "high",
        "maxrate": str(bit_rate), "bufsize": str(bit_rate * 2),
    })
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.bit_rate = bit_rate
    stream.codec_context.time_base = source.time_base or Fraction(1, int(rate))
    return stream


def _largest_scale(bit_rate: int, pixels_per_second: float) -> float:
    """The largest picture size that still gets enough bits per pixel at ``bit_rate``."""
    return next((s for s in _SCALES if bit_rate >= _MIN_VIDEO_BITS_PER_PIXEL * pixels_per_second * s * s), _SCALES[-1])


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size >= 2**20 / 10 else f"{size / 2**10:.0f} kB"


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)
