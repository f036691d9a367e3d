"""The ``photo`` renderer: one portrait made to talk.

The portrait is cut around the face with a margin on every side, so head motion (sway,
nod, tilt) is a window moving and turning over it and never shows an empty border. The
mouth and the eyes are patches over that window: each mouth shape (and each step between
two), blink state and mood is warped from the photo once (``engine.face.warp``) and cached,
so a frame is a window copy plus two patches. A tilt is one of a few fixed angles, each
with its own turned copy of the portrait and of the patches it needs.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from engine import yuv
from engine.face.landmarks import Landmarks
from engine.face.media import open_picture
from engine.face.prepare import find_face, frame_photo
from engine.face.warp import VISEMES, FaceRig
from engine.motion import TILT_DEGREES, head_reach
from engine.renderer import Clip
from engine.types import Expression, MotionFrame, Viseme

BLEND_STEPS = 3  # a mouth between two shapes is one of 1/3, 2/3 of the way: states repeat and cache
EYE_STEPS = 2  # eyes: open, half, closed
TILT_STEP = 0.2  # degrees between the angles a tilt is drawn at: a corner moves about a pixel
CACHE_BYTES = 64 * 1024 * 1024
PLANES_MARGIN = 4  # see engine.sprite: patches reach past what they change by whole chroma cells

Box = tuple[int, int, int, int]


class PhotoRenderer:
    """Frames of one portrait at one output size, as stacked yuv420p planes."""

    def __init__(self, portrait: np.ndarray, face: Landmarks, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pad = (portrait.shape[1] - width) // 2
        self.rig = FaceRig(portrait, face, margin=PLANES_MARGIN)
        self.face = face  # in the portrait's pixels
        self._levels = int(TILT_DEGREES / TILT_STEP + 0.5)
        self._canvases: dict[int, yuv.Planes] = {0: yuv.Planes.of(portrait)}
        self._patches: OrderedDict[tuple[object, ...], tuple[yuv.Planes, tuple[int, int]]] = OrderedDict()
        self._patch_bytes = 0
        self._warped: dict[tuple[object, ...], np.ndarray] = {}  # a few hundred small RGB patches at most
        self._lock = threading.Lock()
        for viseme in Viseme:  # every mouth shape and blink state of the neutral, upright face, ready
            self._patch(("mouth", viseme, viseme, 0, Expression.NEUTRAL), 0)
        for step in range(EYE_STEPS + 1):
            self._patch(("eyes", step, Expression.NEUTRAL), 0)

    @classmethod
    def from_file(cls, path: Path, width: int, height: int) -> PhotoRenderer:
        rgb = open_picture(path)
        pad = margin(width, height)
        portrait, face = frame_photo(rgb, find_face(rgb, path.name), (width + 2 * pad, height + 2 * pad))
        return cls(portrait, face, width, height)

    def frames(self, clip: Clip) -> Iterator[np.ndarray]:
        for frame in clip.track:
            yield self.draw(frame)

    def placement(self, frame: MotionFrame) -> tuple[int, int, int]:
        """The tilt level and the head's offset (dx, dy) in pixels a frame is drawn with."""
        level = min(max(round(frame.tilt / TILT_STEP), -self._levels), self._levels)
        # A turned window's corners reach further out: what margin the turn leaves, the sway may use.
        limit = self.pad - _turn_reach(self.width, self.height, abs(level) * TILT_STEP)
        return level, min(max(round(frame.head_x), -limit), limit), min(max(round(frame.head_y), -limit), limit)

    def face_points(self, frame: MotionFrame) -> np.ndarray:
        """The face's landmarks (x, y) in the frame drawn for ``frame`` (its small tilt left out)."""
        _, dx, dy = self.placement(frame)
        return self.face.points + (dx - self.pad, dy - self.pad)

    def draw(self, frame: MotionFrame) -> np.ndarray:
        p = self.pad
        level, dx, dy = self.placement(frame)
        out = np.empty((self.height * 3 // 2, self.width), np.uint8)
        # The head moving right is the window moving left over the portrait.
        self._canvas(level).draw(out, dy - p, dx - p)
        for key in self._states(frame):
            patch, (top, left) = self._patch(key, level)
            patch.draw(out, top + dy - p, left + dx - p)
        return out

    def _states(self, frame: MotionFrame) -> list[tuple[object, ...]]:
        step = round(min(max(frame.mouth_blend, 0.0), 1.0) * BLEND_STEPS)
        mouth, target = frame.mouth, frame.mouth_next
        if step == BLEND_STEPS:
            mouth, step = target, 0
        if step == 0 or mouth is target:
            target, step = mouth, 0
        eyes = round(min(max(frame.eyes_closed, 0.0), 1.0) * EYE_STEPS)
        return [("mouth", mouth, target, step, frame.expression), ("eyes", eyes, frame.expression)]

    def _canvas(self, level: int) -> yuv.Planes:
        with self._lock:
            canvas = self._canvases.get(level)
        if canvas is None:
            turned = _turn(self.rig.portrait, level * TILT_STEP, (0, 0, *self.rig.portrait.shape[:2]))
            canvas = yuv.Planes.of(turned)
            with self._lock:
                self._canvases[level] = canvas
        return canvas

    def _patch(self, key: tuple[object, ...], level: int) -> tuple[yuv.Planes, tuple[int, int]]:
        """A state's patch at a tilt, and where it goes on the portrait: (top, left)."""
        cache_key = (*key, level)
        with self._lock:
            found = self._patches.get(cache_key)
            if found is not None:
                self._patches.move_to_end(cache_key)
                return found
        box = self.rig.eyes_box if key[0] == "eyes" else self.rig.mouth_box
        rgb = self._upright(key)
        if level:  # the portrait with the patch in place, turned, over the box the turned patch covers
            shape = self.rig.portrait.shape
            turned = _turned_box(box, level * TILT_STEP, shape)
            # Only the part of the portrait the turned box reads from is copied.
            reach = 2 + _turn_reach(box[3] - box[1], box[2] - box[0], TILT_DEGREES) + max(shape) // 50
            top, left = max(min(box[0], turned[0]) - reach, 0), max(min(box[1], turned[1]) - reach, 0)
            bottom = min(max(box[2], turned[2]) + reach, shape[0])
            right = min(max(box[3], turned[3]) + reach, shape[1])
            part = self.rig.portrait[top:bottom, left:right].copy()
            part[box[0] - top : box[2] - top, box[1] - left : box[3] - left] = rgb
            rgb = _turn(part, level * TILT_STEP, turned, origin=(top, left), centre=(shape[0] / 2, shape[1] / 2))
            box = turned
        # Rows for a frame edge only where the head's motion can take the patch to one.
        edges = box[0] - 2 * self.pad < 3 or box[2] > self.height - 3
        made = yuv.Planes.of(rgb, inset=1, edges=edges), (box[0], box[1])
        with self._lock:
            if cache_key not in self._patches:
                self._patches[cache_key] = made
                self._patch_bytes += made[0].nbytes
            while self._patch_bytes > CACHE_BYTES and len(self._patches) > 2:
                self._patch_bytes -= self._patches.popitem(last=False)[1][0].nbytes
        return made

    def _upright(self, key: tuple[object, ...]) -> np.ndarray:
        """A state's warped RGB, upright: made once, whatever tilts it is then drawn at."""
        with self._lock:
            found = self._warped.get(key)
        if found is None:
            found = self._compose(key)
            with self._lock:
                self._warped[key] = found
        return found

    def _compose(self, key: tuple[object, ...]) -> np.ndarray:
        if key[0] == "eyes":
            _, step, expression = key
            return self.rig.eyes(step / EYE_STEPS, _expression(expression))  # type: ignore[operator]
        _, mouth, target, step, expression = key
        # Part way between two shapes is a pose of its own (a cross-fade would show two mouths).
        pose = VISEMES[_viseme(mouth)].towards(VISEMES[_viseme(target)], step / BLEND_STEPS)  # type: ignore[operator]
        return self.rig.mouth(pose, _expression(expression))


def margin(width: int, height: int) -> int:
    """Pixels of portrait kept past each edge of the frame: room for the head's reach in any mood and its tilt; even."""
    return int(np.ceil((head_reach(width) * 1.05 + _turn_reach(width, height, TILT_DEGREES)) / 2)) * 2 + 2


def _turn_reach(width: int, height: int, degrees: float) -> int:
    """How far past its edges a window's corners reach when turned by ``degrees``, rounded up."""
    return math.ceil(math.hypot(width, height) / 2 * math.sin(math.radians(degrees)) + 1) if degrees else 0


def _turn(picture: np.ndarray, degrees: float, box: Box, origin: tuple[int, int] = (0, 0),
          centre: tuple[float, float] | None = None) -> np.ndarray:
    """``box`` (top, left, bottom, right) of a picture turned by ``degrees`` clockwise about ``centre``
    (y, x; default its middle). ``picture`` may be a part of it, whose top-left is at ``origin``."""
    cy, cx = centre if centre is not None else (picture.shape[0] / 2, picture.shape[1] / 2)
    a = math.radians(degrees)
    cos, sin = math.cos(a), math.sin(a)
    top, left, bottom, right = box
    # Output pixel (u, v) is the box's (left + u, top + v), which shows the picture at that point
    # turned back by the angle about the centre.
    x0, y0 = left - cx, top - cy
    coefficients = (cos, sin, cx + cos * x0 + sin * y0 - origin[1], -sin, cos, cy - sin * x0 + cos * y0 - origin[0])
    turned = Image.fromarray(picture).transform((right - left, bottom - top), Image.Transform.AFFINE, coefficients,
                                                Image.Resampling.BILINEAR)
    return np.ascontiguousarray(np.asarray(turned, np.uint8))


def _turned_box(box: Box, degrees: float, shape: tuple[int, ...]) -> Box:
    """The even-aligned box holding ``box`` turned about the picture's centre, inside the picture."""
    cy, cx = shape[0] / 2, shape[1] / 2
    a = math.radians(degrees)
    ys = np.array([box[0], box[0], box[2], box[2]], float) - cy
    xs = np.array([box[1], box[3], box[1], box[3]], float) - cx
    # Clockwise on screen (y down): a point at (x, y) goes to (x cos - y sin, x sin + y cos).
    tx, ty = xs * math.cos(a) - ys * math.sin(a) + cx, xs * math.sin(a) + ys * math.cos(a) + cy
    top, left = max(0, int(ty.min()) // 2 * 2 - 2), max(0, int(tx.min()) // 2 * 2 - 2)
    bottom = min(shape[0] // 2 * 2, int(np.ceil(ty.max())) // 2 * 2 + 4)
    right = min(shape[1] // 2 * 2, int(np.ceil(tx.max())) // 2 * 2 + 4)
    return top, left, bottom, right


def _viseme(value: object) -> Viseme:
    assert isinstance(value, Viseme)
    return value


def _expression(value: object) -> Expression:
    assert isinstance(value, Expression)
    return value
