"""Faces for tests: scikit-image's public-domain portraits (NASA's astronaut photo), and
synthetic pictures and template videos made from them."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image


def astronaut() -> np.ndarray:
    from skimage.data import astronaut as photo

    return photo()


def save_picture(path: Path, rgb: np.ndarray | None = None, **options: object) -> Path:
    Image.fromarray(astronaut() if rgb is None else rgb).save(path, **options)
    return path


def save_video(path: Path, frames: list[np.ndarray], fps: int = 25) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        for rgb in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode())
    return path


def swaying_template(path: Path, seconds: float, fps: int = 25, size: int = 320) -> Path:
    """The astronaut, cropped around her face, drifting a pixel per frame: a talking-head template."""
    photo = astronaut()
    frames = []
    for i in range(round(seconds * fps)):
        dx = int(6 * np.sin(i / 8))
        frames.append(np.ascontiguousarray(photo[0:size, 70 + dx:70 + dx + size]))
    return save_video(path, frames, fps)


@pytest.fixture
def face(tmp_path: Path) -> Path:
    """The astronaut portrait as a PNG: a real face for a render."""
    return save_picture(tmp_path / "astronaut.png")
