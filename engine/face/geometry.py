"""Pixels and shapes for face warps: local frames along a feature, lines through landmarks,
bilinear sampling, smooth fields on coarse grids, anti-aliased polygons and lines."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw


class LocalFrame:
    """A local frame: origin, unit axis ``u`` (along), ``v`` (down), and the unit length."""

    def __init__(self, left: np.ndarray, right: np.ndarray) -> None:
        self.origin = (left + right) / 2
        along = right - left
        self.unit = float(np.linalg.norm(along)) / 2
        self.u = along / (2 * self.unit)
        self.v = np.array([-self.u[1], self.u[0]], np.float32)

    def local(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dx, dy = xs - self.origin[0], ys - self.origin[1]
        return (dx * self.u[0] + dy * self.u[1]) / self.unit, (dx * self.v[0] + dy * self.v[1]) / self.unit

    def pixels(self, s: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (self.origin[0] + (s * self.u[0] + t * self.v[0]) * self.unit,
                self.origin[1] + (s * self.u[1] + t * self.v[1]) * self.unit)


class Curve:
    """A lip or lid line as ``t`` of ``s`` (landmarks in a frame), flat past its ends."""

    def __init__(self, frame: LocalFrame, points: np.ndarray) -> None:
        s, t = frame.local(points[:, 0], points[:, 1])
        order = np.argsort(s)
        self.s, self.t = s[order], t[order]

    def __call__(self, s: np.ndarray) -> np.ndarray:
        return np.interp(s, self.s, self.t)


def smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def grid(n: int, step: int = 4) -> np.ndarray:
    """Every ``step``-th index of ``n``, and the last."""
    return np.unique(np.append(np.arange(0, n, step), n - 1))


def upsample(coarse: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of values on the grid ``rows`` × ``cols`` to every pixel."""
    def along(values: np.ndarray, at: np.ndarray, axis: int) -> np.ndarray:
        full = np.arange(at[-1] + 1)
        hi = np.clip(np.searchsorted(at, full), 1, len(at) - 1)
        lo = hi - 1
        share = ((full - at[lo]) / (at[hi] - at[lo])).astype(np.float32)
        shape = [1, 1]
        shape[axis] = -1
        return (np.take(values, lo, axis=axis) * (1 - share.reshape(shape))
                + np.take(values, hi, axis=axis) * share.reshape(shape))

    return along(along(coarse, rows, 0), cols, 1).astype(np.float32)


def taper(shape: tuple[int, ...], share: float = 0.12) -> np.ndarray:
    """1 inside, falling smoothly to 0 at the edges of an array of ``shape`` over ``share`` of its size."""
    ramps = [smoothstep(np.minimum(np.arange(n), np.arange(n)[::-1]) / max(share * n, 1.0)) for n in shape[:2]]
    return (ramps[0][:, None] * ramps[1][None, :]).astype(np.float32)


def sample(image: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``image`` at float pixel positions (clamped to its edges)."""
    h, w = image.shape[:2]
    xs = np.clip(xs, 0, w - 1.001)
    ys = np.clip(ys, 0, h - 1.001)
    left, top = int(xs.min()), int(ys.min())
    region = np.ascontiguousarray(image[top : int(ys.max()) + 2, left : int(xs.max()) + 2])  # only what is read
    stride = region.shape[1]
    flat = region.reshape(-1, 3)
    x0, y0 = (xs - left).astype(np.int32), (ys - top).astype(np.int32)
    fx, fy = (xs - left - x0)[..., None], (ys - top - y0)[..., None]
    corner = y0 * stride + x0
    upper = flat[corner] * (1 - fx) + flat[corner + 1] * fx  # gathered as bytes, mixed as floats
    lower = flat[corner + stride] * (1 - fx) + flat[corner + stride + 1] * fx
    return np.clip(upper * (1 - fy) + lower * fy + 0.5, 0, 255).astype(np.uint8)


def polygon_mask(shape: tuple[int, int], points: np.ndarray, supersample: int = 4) -> np.ndarray:
    """An anti-aliased float mask of a polygon given in pixels of ``shape``."""
    size = (shape[1] * supersample, shape[0] * supersample)
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).polygon([(float(x) * supersample, float(y) * supersample) for x, y in points], fill=255)
    small = mask.resize((shape[1], shape[0]), Image.Resampling.BOX)
    return np.asarray(small, np.float32) / 255.0


def draw_line(patch: np.ndarray, frame: LocalFrame, s: np.ndarray, t: np.ndarray, offset: tuple[int, int],
               colour: np.ndarray, opacity: float, thick: float = 0.6) -> None:
    """A soft line through (s, t) of ``frame``, ``thick`` pixels either side of it, thinning at its ends."""
    half = max(thick / frame.unit, 0.025)
    fade = np.sqrt(np.clip(1 - (s / max(float(np.abs(s).max()), 1e-3)) ** 2, 0, 1))
    ring = np.stack(frame.pixels(np.concatenate([s, s[::-1]]),
                                 np.concatenate([t - half * fade, (t + half * fade)[::-1]])), -1)
    ring -= (offset[1], offset[0])
    lo = np.maximum(np.floor(ring.min(axis=0)).astype(int) - 1, 0)
    hi = np.minimum(np.ceil(ring.max(axis=0)).astype(int) + 2, (patch.shape[1], patch.shape[0]))
    if (hi <= lo).any():
        return
    box = np.s_[lo[1]:hi[1], lo[0]:hi[0]]
    alpha = opacity * polygon_mask((hi[1] - lo[1], hi[0] - lo[0]), ring - lo)[..., None]
    patch[box] = np.clip(patch[box] * (1 - alpha) + colour * alpha, 0, 255).round().astype(np.uint8)
