"""The ``video`` renderer: a template video of a person, the mouth replaced per frame.

The template is tracked once (``engine.face.prepare.track_template``) and framed by one
fixed box around every frame's face, so its own head movement and blinks show. It plays
forward then backward, so a clip longer than the template never jumps back to its first
frame; on every frame the lower face is warped to the clip's mouth shape (closed and at
rest in silence, whatever the template's mouth was doing).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine import yuv
from engine.face.landmarks import Landmarks
from engine.face.prepare import portrait_crop, track_template
from engine.face.warp import FaceRig
from engine.renderer import Clip
from engine.types import MotionFrame

TRACK_FPS = 25  # the template is sampled at this rate, whatever its own
REACH = 0.55  # a frame keeps this much of the face's size around the lower face, for the warp


@dataclass(frozen=True)
class _Frame:
    planes: np.ndarray  # the whole frame, yuv420p, stacked
    lower: np.ndarray  # RGB of the lower face and around it
    origin: tuple[int, int]  # where ``lower`` sits in the frame: top, left (even)
    face: Landmarks  # in ``lower``'s pixels


class VideoRenderer:
    def __init__(self, path: Path, width: int, height: int) -> None:
        self.width, self.height = width, height
        rgbs, faces = track_template(path, TRACK_FPS)
        crop = portrait_crop(rgbs[0].shape, faces, (width, height))
        self._frames = []
        for rgb, face in zip(rgbs, faces):
            frame = crop.cut(rgb)
            self._frames.append(_lower_face(frame, Landmarks(crop.map(face.points), face.score)))
        del rgbs

    def frames(self, clip: Clip) -> Iterator[np.ndarray]:
        for i, motion in enumerate(clip.track):
            yield self.draw(self._frames[template_index(i / clip.fps, len(self._frames))], motion)

    def draw(self, frame: _Frame, motion: MotionFrame) -> np.ndarray:
        out = frame.planes.copy()
        rig = FaceRig(frame.lower, frame.face)
        mouth = rig.mouth(motion.mouth, motion.expression)
        if motion.mouth_next is not motion.mouth and motion.mouth_blend > 0:
            other = rig.mouth(motion.mouth_next, motion.expression)
            mouth = np.round(mouth * (1 - motion.mouth_blend) + other * motion.mouth_blend).astype(np.uint8)
        top, left = frame.origin[0] + rig.mouth_box[0], frame.origin[1] + rig.mouth_box[1]
        yuv.Planes.of(mouth, inset=1, edges=False).draw(out, top, left)
        return out


def template_index(seconds: float, count: int) -> int:
    """The template frame shown at ``seconds``: forward, then backward, and so on (never a jump)."""
    if count < 2:
        return 0
    position = round(seconds * TRACK_FPS) % (2 * (count - 1))
    return position if position < count else 2 * (count - 1) - position


def _lower_face(rgb: np.ndarray, face: Landmarks) -> _Frame:
    points = face.points
    lo, hi = points.min(axis=0), points.max(axis=0)
    size = float(max(hi - lo))
    nose_y = float(points[1, 1])
    top = max(0, int(nose_y - REACH * size * 0.5) // 2 * 2)
    left = max(0, int(lo[0] - REACH * size) // 2 * 2)
    bottom = min(rgb.shape[0], int(hi[1] + REACH * size) + 1)
    right = min(rgb.shape[1], int(hi[0] + REACH * size) + 1)
    lower = np.ascontiguousarray(rgb[top:bottom, left:right])
    shifted = Landmarks((points - (left, top)).astype(np.float32), face.score)
    return _Frame(yuv.from_rgb(rgb), lower, (top, left), shifted)
