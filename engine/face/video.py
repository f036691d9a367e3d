"""The ``video`` renderer: a template video of a person, the mouth replaced per frame.

The template is tracked once (``engine.face.prepare.track_template``), then decoded again
and framed by one fixed box around every frame's face, so its own head movement and
blinks show. Its frames are kept as yuv420p in a memory-mapped temporary file (a 30 s
template need not sit in memory). It plays forward then backward, so a clip longer than
the template never jumps back to its first frame; on every frame the lower face is warped
to the clip's mouth shape (closed and at rest in silence, whatever the template's mouth
was doing). Frames are drawn by a few threads, in order.
"""

from __future__ import annotations

import os
import tempfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from engine import yuv
from engine.face.landmarks import Landmarks
from engine.face.media import video_frames
from engine.face.prepare import portrait_crop, track_template
from engine.face.warp import VISEMES, FaceRig
from engine.renderer import Clip
from engine.types import MotionFrame

TRACK_FPS = 25  # the template is sampled at this rate, whatever its own
MARGIN = 8  # pixels kept around a frame's mouth region, for the warp to read from
THREADS = max(1, min(4, (os.cpu_count() or 1)))

Box = tuple[int, int, int, int]  # top, left, bottom, right: even


class VideoRenderer:
    def __init__(self, path: Path, width: int, height: int) -> None:
        self.width, self.height = width, height
        faces = track_template(path, TRACK_FPS)
        first = next(video_frames(path, TRACK_FPS))
        crop = portrait_crop(first.shape, faces, (width, height))
        self.faces = [Landmarks(crop.map(face.points), face.score) for face in faces]
        self.boxes = [_mouth_region(face, width, height) for face in self.faces]
        with tempfile.TemporaryFile() as file:  # gone when the renderer is: the map keeps it open
            self._planes = np.memmap(file, np.uint8, "w+", shape=(len(faces), height * 3 // 2, width))
        count = 0
        for count, rgb in enumerate(video_frames(path, TRACK_FPS), start=1):
            if count <= len(faces):
                self._planes[count - 1] = yuv.from_rgb(crop.cut(rgb))
        for i in range(count, len(faces)):  # a stream shorter on the second read: hold its last frame
            self._planes[i] = self._planes[max(count - 1, 0)]

    def frames(self, clip: Clip) -> Iterator[np.ndarray]:
        with ThreadPoolExecutor(THREADS, thread_name_prefix="video-frames") as pool:
            ahead: deque[Future[np.ndarray]] = deque()
            for i, motion in enumerate(clip.track):
                ahead.append(pool.submit(self.draw, template_index(i / clip.fps, len(self.faces)), motion))
                if len(ahead) > 2 * THREADS:
                    yield ahead.popleft().result()
            while ahead:
                yield ahead.popleft().result()

    def face_points(self, frame: int, fps: int) -> np.ndarray:
        """The face's landmarks (x, y) in the ``frame``-th frame of a clip at ``fps``."""
        return self.faces[template_index(frame / fps, len(self.faces))].points

    def draw(self, index: int, motion: MotionFrame) -> np.ndarray:
        """Template frame ``index`` with its mouth in ``motion``'s shape, as stacked yuv420p."""
        out = np.array(self._planes[index])
        top, left, bottom, right = self.boxes[index]
        region = yuv.region_rgb(out, self.boxes[index])
        rig = FaceRig(region, Landmarks(self.faces[index].points - (left, top), 1.0))
        # Between two shapes the pose itself is interpolated: one warp, no cross-fade.
        pose = VISEMES[motion.mouth].towards(VISEMES[motion.mouth_next], min(max(motion.mouth_blend, 0.0), 1.0))
        mouth = rig.mouth(pose, motion.expression)
        yuv.paste(out, yuv.from_rgb(mouth), top + rig.mouth_box[0], left + rig.mouth_box[1])
        return out


def template_index(seconds: float, count: int) -> int:
    """The template frame shown at ``seconds``: forward, then backward, and so on (never a jump)."""
    if count < 2:
        return 0
    position = round(seconds * TRACK_FPS) % (2 * (count - 1))
    return position if position < count else 2 * (count - 1) - position


def _mouth_region(face: Landmarks, width: int, height: int) -> Box:
    """The part of a frame the mouth warp reads and writes, with a margin; even-aligned."""
    probe = FaceRig(np.zeros((height, width, 3), np.uint8), face, margin=MARGIN)
    top, left, bottom, right = probe.mouth_box
    return top, left, top + (bottom - top) // 4 * 4, left + (right - left) // 4 * 4  # whole chroma rows
