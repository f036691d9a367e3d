"""Opening a face file safely: a picture (any size, orientation and pixel mode) or a template video.

Everything here answers bad files with ``FaceInputError``, whose message is for the person
who sent the file: not a picture or video, too many pixels (a decompression bomb), a
template too long or too short.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from engine.errors import FaceInputError
from engine.media_input import open_input

MAX_FACE_BYTES = 64 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a picture's pixels before decoding: more is a bomb, not a photo
MAX_VIDEO_PIXELS = 4096 * 2304  # per frame of a template
TEMPLATE_SECONDS = (1.0, 30.0)
_MATTE = (255, 255, 255)  # what shows through a transparent picture


def face_kind(path: Path) -> str:
    """``"photo"`` or ``"video"``: which renderer animates the file."""
    _check_size(path)
    try:
        with Image.open(path) as image:
            image.size  # noqa: B018 (identified: a picture)
            return "photo"
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        pass
    if _has_video(path):
        return "video"
    raise FaceInputError(f"{path.name} is neither a picture nor a video I can read; "
                         "send a JPEG, PNG or WebP photo or an MP4 / WebM clip.")


def open_picture(path: Path) -> np.ndarray:
    """The picture as upright RGB (EXIF rotation applied; an animation's first frame;
    transparency over white; grayscale, palette, CMYK and 16-bit converted)."""
    _check_size(path)
    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_PIXELS:
                raise FaceInputError(f"{path.name} is {image.width}×{image.height} pixels; pictures may have at most "
                                     f"{MAX_PIXELS // 1_000_000} million pixels.")
            image.seek(0)  # an animated GIF or WebP: its first frame
            image.load()
            upright = ImageOps.exif_transpose(image) or image
            return to_rgb(upright)
    except FaceInputError:
        raise
    except Image.DecompressionBombError as error:  # past twice Pillow's own cap: refused before ours
        raise FaceInputError(f"{path.name} has far too many pixels; pictures may have at most "
                             f"{MAX_PIXELS // 1_000_000} million pixels.") from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise FaceInputError(f"{path.name} is not a picture I can read ({error}).") from error


def to_rgb(image: Image.Image) -> np.ndarray:
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):  # 16-bit or float grayscale: scale to 8 bits
        values = np.asarray(image, np.float64)
        top = float(values.max()) or 1.0
        image = Image.fromarray(np.clip(values * (255.0 / top if top > 255 else 1.0), 0, 255).astype(np.uint8), "L")
    if image.mode == "CMYK":
        image = image.convert("RGB")
    if image.mode != "RGB":
        rgba = image.convert("RGBA")
        matte = Image.new("RGBA", rgba.size, (*_MATTE, 255))
        image = Image.alpha_composite(matte, rgba).convert("RGB")
    return np.ascontiguousarray(np.asarray(image, np.uint8))


def probe_video(path: Path) -> tuple[float, int, int]:
    """(seconds, width, height) of a template video, checked against the limits."""
    import av

    _check_size(path)
    try:
        with open_input(path) as container:
            if not container.streams.video:
                raise FaceInputError(f"{path.name} has no video in it.")
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            if stream.duration is not None and stream.time_base is not None:
                seconds = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                seconds = container.duration / 1_000_000
            else:
                seconds = _count_seconds(path)
    except FaceInputError:
        raise
    except (av.FFmpegError, OSError, ValueError) as error:
        raise FaceInputError(f"{path.name} is not a video I can read ({error}).") from error
    if width * height > MAX_VIDEO_PIXELS:
        raise FaceInputError(f"{path.name} is {width}×{height}; template videos may be at most 4096×2304.")
    low, high = TEMPLATE_SECONDS
    if seconds > high:
        raise FaceInputError(f"{path.name} lasts {seconds:.0f} s; a template video may last at most {high:.0f} s "
                             "(2–30 s of the person looking at the camera works best).")
    if seconds < low:
        raise FaceInputError(f"{path.name} lasts {seconds:.1f} s; a template video needs at least {low:.0f} s.")
    return seconds, width, height


def video_frames(path: Path, fps: int) -> Iterator[np.ndarray]:
    """The template's frames as RGB at ``fps`` (frames dropped or repeated by their times)."""
    import av

    try:
        with open_input(path) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            wanted = 0
            last: np.ndarray | None = None
            for frame in container.decode(stream):
                t = float(frame.time) if frame.time is not None else wanted / fps
                last = frame.to_ndarray(format="rgb24")
                while wanted / fps <= t + 0.5 / fps:
                    yield last
                    wanted += 1
                if wanted / fps > TEMPLATE_SECONDS[1] + 1:
                    return
    except (av.FFmpegError, OSError, ValueError) as error:
        raise FaceInputError(f"{path.name}: the video breaks off ({error}).") from error


def _count_seconds(path: Path) -> float:
    with open_input(path) as container:
        stream = container.streams.video[0]
        last = 0.0
        for packet in container.demux(stream):
            if packet.pts is not None and packet.time_base is not None:
                last = max(last, float(packet.pts * packet.time_base))
                if last > TEMPLATE_SECONDS[1] + 1:
                    break
        return last


def _has_video(path: Path) -> bool:
    import av

    try:
        with open_input(path) as container:
            # FFmpeg reads any file named like a picture as a one-frame "video" (image2 and the
            # *_pipe demuxers); one Pillow could not open is a damaged picture, not a template.
            still = container.format.name == "image2" or container.format.name.endswith("_pipe")
            return bool(container.streams.video) and not still
    except (av.FFmpegError, OSError, ValueError):
        return False


def _check_size(path: Path) -> None:
    try:
        size = path.stat().st_size
    except OSError as error:
        raise FaceInputError(f"I couldn't read {path.name} ({error.strerror or error}).") from error
    if size > MAX_FACE_BYTES:
        raise FaceInputError(f"{path.name} is {size / 1e6:.0f} MB; a face file may be at most "
                             f"{MAX_FACE_BYTES // (1024 * 1024)} MB.")
    if size == 0:
        raise FaceInputError(f"{path.name} is empty.")
