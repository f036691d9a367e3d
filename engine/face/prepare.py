"""Finding the face to animate in a picture or a template video, and framing it.

A portrait is a square around the face cut from the picture (head and shoulders when the
picture has them), scaled to the output's short side plus a margin on every side for head
motion, so moving the head never shows an empty border.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from engine.errors import FaceInputError
from engine.face.landmarks import Landmarks, detect_faces, landmarks_from_detection, track
from engine.face.media import face_kind, open_picture, probe_video, video_frames

MIN_FACE = 80  # pixels across: smaller faces have too few pixels to move convincingly
MIN_SCORE = 0.5  # the landmark model's confidence below which a frame has lost the face
FACE_SPAN = 2.6  # a portrait is this many face sizes across (when the picture reaches that far)
MOST_FRAMES = 0.5  # a template must show the face in more than this share of its frames
NO_FACE = ("I couldn't find a face in {name}. Use a photo where the face looks at the camera; "
           "for a drawing or cartoon, make a sprite persona instead (see personas/README.md).")


@dataclass(frozen=True)
class Crop:
    """A box of a picture (in its pixels) that becomes a picture of ``size`` (width, height)."""

    left: float
    top: float
    width: float
    height: float
    size: tuple[int, int]

    def cut(self, rgb: np.ndarray) -> np.ndarray:
        box = (self.left, self.top, self.left + self.width, self.top + self.height)
        image = Image.fromarray(rgb).resize(self.size, Image.Resampling.LANCZOS, box=box)
        return np.ascontiguousarray(np.asarray(image, np.uint8))

    def map(self, points: np.ndarray) -> np.ndarray:
        return ((points - (self.left, self.top)) * (self.size[0] / self.width)).astype(np.float32)


def find_face(rgb: np.ndarray, name: str) -> Landmarks:
    """The largest face's landmarks; ``FaceInputError`` when there is none or it is too small."""
    detections = detect_faces(rgb)
    if not detections:
        raise FaceInputError(NO_FACE.format(name=name))
    found = landmarks_from_detection(rgb, detections[0])
    if found.score < MIN_SCORE:
        raise FaceInputError(NO_FACE.format(name=name))
    if (size := face_size(found)) < MIN_FACE:
        raise FaceInputError(f"The face in {name} is only {size:.0f} pixels wide; use a picture where it "
                             f"is at least {MIN_FACE} pixels wide (closer, or less cropped).")
    return found


def face_size(face: Landmarks) -> float:
    """Pixels across the face: the larger side of its landmarks' box (brow to chin, cheek to cheek)."""
    return float(max(face.points.max(axis=0) - face.points.min(axis=0)))


def portrait_crop(shape: tuple[int, ...], faces: list[Landmarks], size: tuple[int, int]) -> Crop:
    """A box of the picture's shape ``size`` (width, height) around every face given (a template's,
    over its frames), inside the picture: about ``FACE_SPAN`` faces across its short side."""
    height, width = shape[:2]
    lo = np.min([f.points.min(axis=0) for f in faces], axis=0)
    hi = np.max([f.points.max(axis=0) for f in faces], axis=0)
    face = float(max(hi - lo))
    aspect = size[0] / size[1]
    short = max(face * FACE_SPAN, face + 8)
    box_w, box_h = (short * aspect, short) if aspect >= 1 else (short, short / aspect)
    shrink = min(1.0, width / box_w, height / box_h)  # the picture is smaller than that: zoom in
    box_w, box_h = box_w * shrink, box_h * shrink
    # The face a little above the middle: room for the neck and shoulders below.
    cx, cy = (lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2 + 0.08 * box_h
    left = min(max(cx - box_w / 2, 0.0), width - box_w)
    top = min(max(cy - box_h / 2, 0.0), height - box_h)
    return Crop(float(left), float(top), float(box_w), float(box_h), size)


def frame_photo(rgb: np.ndarray, face: Landmarks, size: tuple[int, int]) -> tuple[np.ndarray, Landmarks]:
    """The portrait (``size``: width, height) and its face's landmarks, found again at its own scale."""
    crop = portrait_crop(rgb.shape, [face], size)
    portrait = crop.cut(rgb)
    return portrait, track(portrait, Landmarks(crop.map(face.points), face.score))


def track_template(path: Path, fps: int) -> list[Landmarks]:
    """The face in each of a template video's frames at ``fps`` (decoded one at a time: only the
    landmarks are kept); frames that lose it borrow the nearest frame's. ``FaceInputError`` when
    the face is lost in most frames or is too small."""
    probe_video(path)
    found: list[Landmarks | None] = []
    last: Landmarks | None = None
    for rgb in video_frames(path, fps):
        current = track(rgb, last) if last is not None else None
        if current is None or current.score < MIN_SCORE:
            detections = detect_faces(rgb)
            current = landmarks_from_detection(rgb, detections[0]) if detections else None
        if current is not None and current.score < MIN_SCORE:
            current = None
        found.append(current)
        last = current or last
    seen = [i for i, f in enumerate(found) if f is not None]
    if len(seen) <= MOST_FRAMES * len(found):
        raise FaceInputError(f"The face is lost in most of {path.name} ({len(found) - len(seen)} of {len(found)} "
                             "frames); use a clip where the person faces the camera throughout.")
    sizes = [face_size(found[i]) for i in seen]  # type: ignore[arg-type]
    if float(np.median(sizes)) < MIN_FACE:
        raise FaceInputError(f"The face in {path.name} is too small; use a clip where it is at least "
                             f"{MIN_FACE} pixels wide.")
    return [found[i] or found[min(seen, key=lambda j: abs(j - i))] for i in range(len(found))]  # type: ignore[misc]


def check_face(path: Path) -> str:
    """Check a one-off face file before rendering it; returns its kind (``"photo"`` or ``"video"``)."""
    kind = face_kind(path)
    if kind == "photo":
        find_face(open_picture(path), path.name)
    else:
        track_template(path, fps=5)
    return kind
