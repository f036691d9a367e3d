"""The ``photo`` renderer: one portrait made to talk.

The portrait is cut around the face with a margin on every side, so head motion (sway,
nod) is a window moving over it and never shows an empty border. The mouth and the eyes
are patches over that window: each mouth shape, blink state and mood is warped from the
photo once (``engine.face.warp``) and cached, so a frame is a window copy plus two patches.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from engine import yuv
from engine.face.landmarks import Landmarks
from engine.face.media import open_picture
from engine.face.prepare import find_face, frame_photo
from engine.face.warp import FaceRig
from engine.motion import head_amplitude
from engine.renderer import Clip
from engine.types import Expression, MotionFrame, Viseme

BLEND_STEPS = 3  # a mouth between two shapes is one of 1/3, 2/3 of the way: states repeat and cache
EYE_STEPS = 2  # eyes: open, half, closed
CACHE_BYTES = 48 * 1024 * 1024
PLANES_MARGIN = 4  # see engine.sprite: patches reach past what they change by whole chroma cells


class PhotoRenderer:
    """Frames of one portrait at one output size, as stacked yuv420p planes."""

    def __init__(self, portrait: np.ndarray, face: Landmarks, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pad = (portrait.shape[1] - width) // 2
        self.rig = FaceRig(portrait, face, margin=PLANES_MARGIN)
        self._canvas = yuv.Planes.of(portrait)
        self._patches: OrderedDict[tuple[object, ...], yuv.Planes] = OrderedDict()
        self._patch_bytes = 0
        self._lock = threading.Lock()
        for viseme in Viseme:  # every mouth shape and blink state of the neutral face, ready
            self._patch(("mouth", viseme, viseme, 0, Expression.NEUTRAL))
        for step in range(EYE_STEPS + 1):
            self._patch(("eyes", step, Expression.NEUTRAL))

    @classmethod
    def from_file(cls, path: Path, width: int, height: int) -> PhotoRenderer:
        rgb = open_picture(path)
        pad = margin(width, height)
        portrait, face = frame_photo(rgb, find_face(rgb, path.name), (width + 2 * pad, height + 2 * pad))
        return cls(portrait, face, width, height)

    def frames(self, clip: Clip) -> Iterator[np.ndarray]:
        for frame in clip.track:
            yield self.draw(frame)

    def draw(self, frame: MotionFrame) -> np.ndarray:
        p = self.pad
        dx = min(max(round(frame.head_x), -p), p)
        dy = min(max(round(frame.head_y), -p), p)
        out = np.empty((self.height * 3 // 2, self.width), np.uint8)
        # The head moving right is the window moving left over the portrait.
        self._canvas.draw(out, dy - p, dx - p)
        for key, box in self._regions(frame):
            self._patch(key).draw(out, box[0] + dy - p, box[1] + dx - p)
        return out

    def _regions(self, frame: MotionFrame) -> list[tuple[tuple[object, ...], tuple[int, int]]]:
        step = round(min(max(frame.mouth_blend, 0.0), 1.0) * BLEND_STEPS)
        mouth, target = frame.mouth, frame.mouth_next
        if step == BLEND_STEPS:
            mouth, step = target, 0
        if step == 0 or mouth is target:
            target, step = mouth, 0
        eyes = round(min(max(frame.eyes_closed, 0.0), 1.0) * EYE_STEPS)
        return [(("mouth", mouth, target, step, frame.expression), self.rig.mouth_box[:2]),
                (("eyes", eyes, frame.expression), self.rig.eyes_box[:2])]

    def _patch(self, key: tuple[object, ...]) -> yuv.Planes:
        with self._lock:
            patch = self._patches.get(key)
            if patch is not None:
                self._patches.move_to_end(key)
                return patch
        patch = yuv.Planes.of(self._compose(key), inset=1, edges=False)
        with self._lock:
            if key not in self._patches:
                self._patches[key] = patch
                self._patch_bytes += patch.nbytes
            while self._patch_bytes > CACHE_BYTES and len(self._patches) > 2:
                self._patch_bytes -= self._patches.popitem(last=False)[1].nbytes
        return patch

    def _compose(self, key: tuple[object, ...]) -> np.ndarray:
        if key[0] == "eyes":
            _, step, expression = key
            return self.rig.eyes(step / EYE_STEPS, _expression(expression))  # type: ignore[operator]
        _, mouth, target, step, expression = key
        a = self.rig.mouth(_viseme(mouth), _expression(expression))
        if step == 0:
            return a
        b = self.rig.mouth(_viseme(target), _expression(expression))
        t = step / BLEND_STEPS  # type: ignore[operator]
        return np.round(a * (1 - t) + b * t).astype(np.uint8)


def margin(width: int, height: int) -> int:
    """Pixels of portrait kept past each edge of the frame: the most the head moves, and even."""
    return int(np.ceil(head_amplitude(width) * 1.05 / 2)) * 2 + 2


def _viseme(value: object) -> Viseme:
    assert isinstance(value, Viseme)
    return value


def _expression(value: object) -> Expression:
    assert isinstance(value, Expression)
    return value
