"""The ``wav2lip`` renderer: a photo or template-video persona whose mouth Wav2Lip draws.

The persona's own renderer draws every frame with the mouth at rest (its blinks, head motion
and the template's movement stay); each frame's face is cut from the box around its landmarks,
resized to 96×96 BGR and sent with the frame's mel window to the shared batcher. The mouth that
comes back is colour-matched to the crop and blended over the lower face through a feathered
mask, so no seam shows. Frames go to the batcher a chunk ahead of the ones being yielded.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from engine import yuv
from engine.models.lipsync.features import mel_spectrogram, mel_windows
from engine.renderer import Clip, Renderer
from engine.types import Viseme

if TYPE_CHECKING:
    from engine.models import FaceBatcher, FaceTicket

SIZE = 96
CHUNK = 32  # frames per request to the batcher
FEATHER = 0.12  # of the box's size: how far the blend fades at the mask's edges

Box = tuple[int, int, int, int]  # top, left, bottom, right
#: The face's landmarks (x, y) in frame ``i`` of the clip.
FacePoints = Callable[[int, Clip], np.ndarray]


class Wav2LipRenderer:
    def __init__(self, inner: Renderer, face_points: FacePoints, batcher: FaceBatcher) -> None:
        self.inner, self.face_points, self.batcher = inner, face_points, batcher

    def frames(self, clip: Clip) -> Iterator[np.ndarray]:
        at_rest = Clip(clip.speech, clip.timeline,
                       [dataclasses.replace(f, mouth=Viseme.REST, mouth_next=Viseme.REST, mouth_blend=0.0)
                        for f in clip.track], clip.width, clip.height, clip.fps, clip.priority)
        mels = mel_windows(mel_spectrogram(clip.speech.samples, clip.speech.sample_rate), len(clip.track), clip.fps)
        drawn = enumerate(self.inner.frames(at_rest))
        ahead: list[tuple[FaceTicket, list[tuple[np.ndarray, Box]]]] = []
        submitted = 0
        try:
            while True:
                chunk = [(frame, face_box(self.face_points(i, clip), clip.width, clip.height))
                         for i, frame in itertools.islice(drawn, CHUNK)]
                if chunk:
                    faces = np.stack([crop_input(frame, box) for frame, box in chunk])
                    ticket = self.batcher.submit(mels[submitted : submitted + len(chunk)], faces,
                                                 priority=clip.priority)
                    ahead.append((ticket, chunk))
                    submitted += len(chunk)
                    if len(ahead) < 2:
                        continue  # one chunk stays in the batcher while the one before it is pasted
                if not ahead:
                    return
                ticket, done = ahead.pop(0)
                for (frame, box), mouth in zip(done, ticket.result()):
                    paste_mouth(frame, box, mouth)
                    yield frame
        finally:  # a render stopped early (cancelled, failed) takes its frames out of the batcher
            for ticket, _ in ahead:
                self.batcher.cancel(ticket)


def face_box(points: np.ndarray, width: int, height: int) -> Box:
    """The box around the face's landmarks, a little deeper below the chin (as Wav2Lip's training crops
    were), inside the frame: its top and bottom on multiples of 4 and its sides even, for yuv420p."""
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    y1 += 0.05 * (y1 - y0)
    top, bottom = max(int(y0) // 4 * 4, 0), min(int(np.ceil(y1 / 4)) * 4, height // 4 * 4)
    left, right = max(int(x0) // 2 * 2, 0), min(int(np.ceil(x1 / 2)) * 2, width // 2 * 2)
    return top, left, max(bottom, top + 8), max(right, left + 8)


def crop_input(frame: np.ndarray, box: Box) -> np.ndarray:
    """(96, 96, 6) uint8: the face's crop in BGR with its lower half blacked out, then the whole crop."""
    rgb = yuv.region_rgb(frame, box)
    face = np.asarray(Image.fromarray(rgb).resize((SIZE, SIZE), Image.Resampling.BILINEAR))[:, :, ::-1]
    masked = face.copy()
    masked[SIZE // 2 :] = 0
    return np.concatenate([masked, face], axis=2)


def paste_mouth(frame: np.ndarray, box: Box, mouth: np.ndarray) -> None:
    """Blend the network's (96, 96, 3) BGR face into ``frame``'s box: colour-matched, feathered, lower face only."""
    top, left, bottom, right = box
    height, width = bottom - top, right - left
    original = yuv.region_rgb(frame, box).astype(np.float32)
    made = np.asarray(Image.fromarray(np.ascontiguousarray(mouth[:, :, ::-1])).resize(
        (width, height), Image.Resampling.BICUBIC), np.float32)
    mask = feather_mask(height, width)
    # Colour matching: the made face's mean and spread per channel, where it is blended, made the frame's.
    weight = mask[..., None] / max(float(mask.sum()), 1.0)
    for channel in range(3):
        source, target = made[..., channel], original[..., channel]
        w = weight[..., 0]
        mean_s, mean_t = float((source * w).sum()), float((target * w).sum())
        std_s = float(np.sqrt(((source - mean_s) ** 2 * w).sum())) or 1.0
        std_t = float(np.sqrt(((target - mean_t) ** 2 * w).sum()))
        made[..., channel] = (source - mean_s) * min(std_t / std_s, 2.0) + mean_t
    blended = original + (made - original) * mask[..., None]
    rgb = np.ascontiguousarray(np.clip(blended + 0.5, 0, 255).astype(np.uint8))
    yuv.paste(frame, yuv.from_rgb(rgb), top, left)


def feather_mask(height: int, width: int) -> np.ndarray:
    """(height, width) float32 weights: 1 over the mouth and jaw, fading to 0 at the box's sides, its
    bottom and above the nose line (the upper face is the persona's own: eyes, blinks)."""
    y = (np.arange(height, dtype=np.float32) + 0.5) / height
    x = (np.arange(width, dtype=np.float32) + 0.5) / width
    rows = np.clip((y - 0.5) / FEATHER, 0, 1) * np.clip((1 - y) / FEATHER, 0, 1)
    columns = np.clip(x / FEATHER, 0, 1) * np.clip((1 - x) / FEATHER, 0, 1)
    mask = rows[:, None] * columns[None, :]
    return mask * mask * (3 - 2 * mask)  # smoothstep: no visible edge where the fade starts or stops
