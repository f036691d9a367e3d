"""Drawing kit for the built-in personas: shapes in 512-pixel coordinates, drawn at 4×."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

SIZE = 512
SCALE = 4  # supersampling: drawn at 2048², downsampled with LANCZOS for clean edges

Point = tuple[float, float]
Colour = tuple[int, int, int] | tuple[int, int, int, int]
Box = tuple[float, float, float, float]
FULL: Box = (0, 0, SIZE, SIZE)


def rgb(hex_colour: str, alpha: int = 255) -> tuple[int, int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), alpha


def bezier(*points: Point, n: int = 24) -> list[Point]:
    """Points along a quadratic (3 points) or cubic (4 points) Bézier curve, ends included."""
    out = []
    for i in range(n + 1):
        t = i / n
        if len(points) == 3:
            (x0, y0), (x1, y1), (x2, y2) = points
            a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t * t
            out.append((a * x0 + b * x1 + c * x2, a * y0 + b * y1 + c * y2))
        else:
            (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points
            a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t * t, t**3
            out.append((a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3))
    return out


def through(p0: Point, mid: Point, p2: Point, n: int = 24) -> list[Point]:
    """A quadratic curve from ``p0`` to ``p2`` that passes through ``mid`` at its middle."""
    control = (2 * mid[0] - (p0[0] + p2[0]) / 2, 2 * mid[1] - (p0[1] + p2[1]) / 2)
    return bezier(p0, control, p2, n=n)


def ellipse_points(cx: float, cy: float, rx: float, ry: float, n: int = 64, start: float = 0.0) -> list[Point]:
    return [(cx + rx * math.cos(start + 2 * math.pi * i / n), cy + ry * math.sin(start + 2 * math.pi * i / n))
            for i in range(n)]


def taper(points: Sequence[Point], width: float, start: float = 0.25, end: float = 0.25) -> list[Point]:
    """Outline of a stroke along ``points`` that swells to ``width`` and tapers to ``start``/``end`` × width."""
    left, right = [], []
    n = len(points) - 1
    for i, (x, y) in enumerate(points):
        ax, ay = points[max(i - 1, 0)]
        bx, by = points[min(i + 1, n)]
        length = math.hypot(bx - ax, by - ay) or 1.0
        nx, ny = -(by - ay) / length, (bx - ax) / length
        t = i / n
        floor = start if t < 0.5 else end
        w = width / 2 * (floor + (1 - floor) * math.sin(math.pi * t))
        left.append((x + nx * w, y + ny * w))
        right.append((x - nx * w, y - ny * w))
    return left + right[::-1]


class Layer:
    """A transparent 2048² RGBA canvas addressed in 512² coordinates."""

    def __init__(self) -> None:
        self.image = Image.new("RGBA", (SIZE * SCALE, SIZE * SCALE), (0, 0, 0, 0))
        self.draw = ImageDraw.Draw(self.image)

    @staticmethod
    def _xy(points: Sequence[Point]) -> list[tuple[float, float]]:
        return [(x * SCALE, y * SCALE) for x, y in points]

    def polygon(self, points: Sequence[Point], fill: Colour) -> Layer:
        self.draw.polygon(self._xy(points), fill=fill)
        return self

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, fill: Colour) -> Layer:
        s = SCALE
        self.draw.ellipse(((cx - rx) * s, (cy - ry) * s, (cx + rx) * s, (cy + ry) * s), fill=fill)
        return self

    def line(self, points: Sequence[Point], fill: Colour, width: float, closed: bool = False) -> Layer:
        """A stroke with round joints and caps."""
        pts = list(points) + ([points[0], points[1]] if closed else [])
        self.draw.line(self._xy(pts), fill=fill, width=max(1, round(width * SCALE)), joint="curve")
        if not closed:
            for x, y in (points[0], points[-1]):
                self.ellipse(x, y, width / 2 - 0.1, width / 2 - 0.1, fill)
        return self

    def shape(self, points: Sequence[Point], fill: Colour, outline: Colour | None = None, width: float = 0) -> Layer:
        """A filled polygon with an outline centred on its edge."""
        self.polygon(points, fill)
        if outline is not None and width > 0:
            self.line(points, outline, width, closed=True)
        return self

    def over(self, other: Layer) -> Layer:
        """Alpha-composite ``other`` on top of this layer."""
        self.image.alpha_composite(other.image)
        return self

    def clip(self, mask: Layer) -> Layer:
        """Keep only what lies inside ``mask``'s drawn area."""
        alpha = ImageChops.multiply(self.image.getchannel("A"), mask.image.getchannel("A"))
        self.image.putalpha(alpha)
        return self

    def cut(self, mask: Layer) -> Layer:
        """Erase what lies inside ``mask``'s drawn area."""
        alpha = ImageChops.subtract(self.image.getchannel("A"), mask.image.getchannel("A"))
        self.image.putalpha(alpha)
        return self

    def fade(self, opacity: float) -> Layer:
        self.image.putalpha(self.image.getchannel("A").point(lambda a: round(a * opacity)))
        return self

    def blurred(self, radius: float) -> Layer:
        out = Layer()
        # Blur premultiplied, or transparent black bleeds into the edges as a dark halo.
        blurred = self.image.convert("RGBa").filter(ImageFilter.GaussianBlur(radius * SCALE))
        out.image = blurred.convert("RGBA")
        out.draw = ImageDraw.Draw(out.image)
        return out

    def glow(self, radius: float, strength: float = 1.0) -> Layer:
        """This layer with a soft halo of its own colours beneath it."""
        halo = self.blurred(radius)
        if strength != 1.0:
            halo.fade(min(strength, 1.0))
        return halo.over(self)

    def final(self, view: Box = FULL) -> Image.Image:
        """The 512² layer showing ``view`` (a square region of the drawing), anti-aliased."""
        left, top, right, bottom = view
        box = (left * SCALE, top * SCALE, right * SCALE, bottom * SCALE)
        return self.image.resize((SIZE, SIZE), Image.Resampling.LANCZOS, box=box)


def gradient(mask: Layer, top: Colour, bottom: Colour, y0: float, y1: float) -> Layer:
    """A vertical gradient from ``top`` (at y0) to ``bottom`` (at y1) inside ``mask``."""
    h = SIZE * SCALE
    t = np.clip((np.arange(h, dtype=np.float32) / SCALE - y0) / max(y1 - y0, 1e-3), 0, 1)[:, None]
    rows = np.array(top[:3], np.float32) * (1 - t) + np.array(bottom[:3], np.float32) * t
    pixels = np.empty((h, h, 4), np.uint8)
    pixels[..., :3] = np.round(rows)[:, None, :].astype(np.uint8)
    pixels[..., 3] = np.asarray(mask.image.getchannel("A"))
    out = Layer()
    out.image = Image.fromarray(pixels, "RGBA")
    out.draw = ImageDraw.Draw(out.image)
    return out


def compose(*layers: Layer) -> Layer:
    out = Layer()
    for layer in layers:
        out.over(layer)
    return out


def save_layers(sprite_dir: Path, layers: dict[str, Layer], view: Box = FULL) -> None:
    sprite_dir.mkdir(parents=True, exist_ok=True)
    for old in sprite_dir.glob("*.png"):
        old.unlink()
    for name, layer in layers.items():
        image = layer.final(view)
        # Fully transparent pixels carry no colour: zeroing them keeps the PNGs small.
        pixels = np.asarray(image).copy()
        pixels[pixels[..., 3] == 0] = 0
        Image.fromarray(pixels, "RGBA").save(sprite_dir / f"{name}.png", optimize=True)


def scaled_about(layer: Layer, cx: float, cy: float, factor: float) -> Layer:
    """``layer`` enlarged (or shrunk) by ``factor`` around the point (cx, cy)."""
    inverse, s = 1 / factor, SCALE
    out = Layer()
    out.image = layer.image.transform(layer.image.size, Image.Transform.AFFINE,
                                      (inverse, 0, cx * s * (1 - inverse), 0, inverse, cy * s * (1 - inverse)),
                                      Image.Resampling.BICUBIC)
    out.draw = ImageDraw.Draw(out.image)
    return out
