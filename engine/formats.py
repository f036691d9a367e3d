"""File formats besides the engine's MP4: VP9 + Opus WebM, and animated GIF for reactions.

The engine renders (and caches) H.264 + AAC MP4, which every platform plays; a file
named ``.webm`` or ``.gif`` is made from that MP4, so one render serves every format.
Like ``encode_mp4``, a conversion leaves no file behind when it fails.
"""

from __future__ import annotations

import math
import os
import uuid
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image

#: The formats a video can be written in, by file extension.
FORMATS = {
    ".mp4": "MP4 (H.264 video, AAC sound)",
    ".webm": "WebM (VP9 video, Opus sound)",
    ".gif": "animated GIF (no sound)",
}
#: A GIF needs no more frames a second than this to read as speech; fewer frames keep it small.
GIF_MAX_FPS = 15
_GIF_PALETTE_SAMPLES = 12  # frames looked at to choose the one palette every frame shares
_VP9_CRF = 32
_OPUS_RATE = 48_000  # the only rate Opus encodes at
_OPUS_BIT_RATE = 48_000


class FormatError(ValueError):
    """A file name whose extension names no format we write."""


def check_format(path: Path) -> str:
    """The lower-case extension of ``path`` if it is one we write; ``FormatError`` otherwise."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(f"{ext} ({what})" for ext, what in FORMATS.items())
        shown = f"'{path.suffix}'" if path.suffix else "no extension"
        raise FormatError(f"{path.name} has {shown}; the video can be written as {known}.")
    return suffix


def write_as(source: Path, target: Path) -> None:
    """Write the MP4 ``source`` to ``target`` in the format its extension names."""
    suffix = check_format(target)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part{suffix}")
    try:
        if suffix == ".mp4":
            tmp.write_bytes(source.read_bytes())
        elif suffix == ".webm":
            _to_webm(source, tmp)
        else:
            _to_gif(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _to_webm(source: Path, target: Path) -> None:
    with av.open(str(source)) as inp, av.open(str(target), "w", format="webm") as out:
        video_in = inp.streams.video[0]
        rate = video_in.average_rate or Fraction(25)
        video = out.add_stream("libvpx-vp9", rate=rate, options={
            # Constant quality, tuned for speed: chat clips are short and made while someone waits.
            "crf": str(_VP9_CRF), "b": "0", "deadline": "realtime", "cpu-used": "8", "row-mt": "1"})
        video.width, video.height, video.pix_fmt = video_in.codec_context.width, video_in.codec_context.height, \
            "yuv420p"
        video.codec_context.time_base = 1 / Fraction(rate)
        video.codec_context.thread_count = min(os.cpu_count() or 1, 8)
        audio = None
        if inp.streams.audio:
            audio = out.add_stream("libopus", rate=_OPUS_RATE, layout="mono")
            audio.bit_rate = _OPUS_BIT_RATE
        frames = 0
        for packet in inp.demux(*inp.streams):
            for frame in packet.decode():
                if isinstance(frame, av.VideoFrame):
                    frame = frame.reformat(format="yuv420p")
                    frame.pts, frame.time_base = frames, video.codec_context.time_base
                    frames += 1
                    out.mux(video.encode(frame))
                elif audio is not None and isinstance(frame, av.AudioFrame):
                    frame.pts = None  # the encoder's resampler to 48 kHz times the samples itself
                    out.mux(audio.encode(frame))
        out.mux(video.encode(None))
        if audio is not None:
            out.mux(audio.encode(None))


def _to_gif(source: Path, target: Path) -> None:
    with av.open(str(source)) as inp:
        stream = inp.streams.video[0]
        fps = float(stream.average_rate or 25)
        step = max(1, math.ceil(fps / GIF_MAX_FPS))
        frames = [frame.to_image() for n, frame in enumerate(inp.decode(stream)) if n % step == 0]
    if not frames:
        raise ValueError(f"{source} has no video frames")
    palette = _palette(frames)
    # One palette for all frames and no dithering: flat sprite colours stay flat, and frames
    # differ only where something moved, which the GIF writer then stores alone.
    indexed = [frame.quantize(palette=palette, dither=Image.Dither.NONE) for frame in frames]
    indexed[0].save(target, format="GIF", save_all=True, append_images=indexed[1:], loop=0,
                    duration=round(1000 * step / fps), optimize=True, disposal=1)


def _palette(frames: list[Image.Image]) -> Image.Image:
    """A 256-colour palette fitted to frames spread over the whole clip."""
    picks = [frames[i * (len(frames) - 1) // max(_GIF_PALETTE_SAMPLES - 1, 1)]
             for i in range(min(_GIF_PALETTE_SAMPLES, len(frames)))]
    width, height = picks[0].size
    sheet = Image.new("RGB", (width, height * len(picks)))
    for row, frame in enumerate(picks):
        sheet.paste(frame.convert("RGB"), (0, row * height))
    return sheet.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)

