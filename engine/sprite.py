"""The ``sprite`` frame renderer: PNGTuber-style layered persona art, composited per frame.

Layers (see personas/README.md) are RGBA PNGs of one square size, drawn in place on a
transparent canvas, so a frame is a plain alpha-over in this order: background, base,
eyes, brows, mouth, front.  Only eyes, brows and mouth change between frames, so the
renderer composes each distinct state of the eyes and of the mouth once (small patches)
and a frame is a window copy of a pre-composited canvas plus those patches.  In yuv420p
mode the canvas and patches are kept as planes, so the encoder needs no conversion.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from engine import sprite_cache, yuv
from engine.sprite_set import (
    BACKGROUND_FILE,
    OPTIONAL_LAYERS,
    REQUIRED_LAYERS,
    check_sprite_dir,
    is_hex_colour,
    mouth_layer,
    open_eyes_layer,
    open_layer,
)
from engine.types import Expression, MotionFrame, Viseme

BLEND_STEPS = 3  # mouth_blend is quantised to 0, 1/3, 2/3, 1 so face states repeat and cache
#: A base whose top or side edge is at least this opaque fills the square: it is drawn larger, past
#: every edge by the sway margin, so head motion never shows an empty strip.
FULL_BLEED = 0.5
CACHE_BYTES = 48 * 1024 * 1024  # composed patches kept per renderer
MARGIN = 0.04  # of the frame's short side: room for head sway, and the most it may move
PIXEL_FORMATS = ("rgb24", "yuv420p")
# yuv420p patches reach this far past what they change, so each chroma cell whose filter
# (four rows tall) sees a change comes whole from the patch: see ``yuv.Planes``.
PLANES_MARGIN = 4

Box = tuple[int, int, int, int]  # top, left, bottom, right
State = tuple[str, str, str, str, int]  # eyes, brows, mouth, mouth blended towards, blend step
Spans = tuple[slice, slice]
#: ``keep(name, make)``: the arrays ``make()`` gives, kept under ``name`` (see ``engine.sprite_cache``).
Keep = Callable[[str, Callable[[], sprite_cache.Arrays]], sprite_cache.Arrays]


@dataclass(frozen=True)
class _Layer:
    """Premultiplied float32 RGBA cropped to its content; (y, x) is its place on the character."""

    y: int
    x: int
    rgba: np.ndarray

    @property
    def box(self) -> Box:
        return self.y, self.x, self.y + self.rgba.shape[0], self.x + self.rgba.shape[1]


@dataclass(frozen=True)
class _Region:
    """A box of the character that changes with the eyes and brows, the mouth, or both."""

    box: Box
    eyes: bool
    mouth: bool

    def key(self, state: State) -> tuple[object, ...]:
        return self.box, *(state[:2] if self.eyes else ()), *(state[2:] if self.mouth else ())


class _Cutout:
    """Premultiplied RGBA, split so that drawing it copies opaque pixels and blends only edges."""

    def __init__(self, rgba: np.ndarray, out_width: int) -> None:
        self.rgb = np.ascontiguousarray(rgba[..., :3])
        alpha = rgba[..., 3]
        self.opaque = alpha == 255
        self.ey, self.ex = np.nonzero((alpha > 0) & (alpha < 255))  # row-major: ey is sorted
        self.flat = self.ey * out_width + self.ex
        self.edge_rgb = self.rgb[self.ey, self.ex].astype(np.uint16)
        self.edge_inv = (255 - alpha[self.ey, self.ex]).astype(np.uint16)[:, None]
        self.nbytes = self.rgb.nbytes + self.opaque.nbytes + 28 * len(self.ey)

    def draw(self, out: np.ndarray, y: int, x: int) -> None:
        if not (spans := _overlap(out.shape, self.rgb.shape, y, x)):
            return
        dst, src = out[spans[0]], self.rgb[spans[1]]
        # Viewed as 3-byte items, a masked copy is one fast pass instead of three.
        np.copyto(dst.view("V3")[..., 0], src.view("V3")[..., 0], where=self.opaque[spans[1]])
        lo, hi = np.searchsorted(self.ey, (-y, out.shape[0] - y))
        index = self.flat[lo:hi] + (y * out.shape[1] + x)
        keep = slice(lo, hi)
        if x < 0 or x + self.rgb.shape[1] > out.shape[1]:  # only then can an edge fall off a side
            cols = self.ex[lo:hi] + x
            keep = np.flatnonzero((cols >= 0) & (cols < out.shape[1])) + lo
            index = self.flat[keep] + (y * out.shape[1] + x)
        mixed = np.take(out.reshape(-1, 3), index, axis=0).astype(np.uint16)
        mixed *= self.edge_inv[keep]
        mixed += 127  # with the shifts below: a rounded division by 255
        mixed += mixed >> 8
        mixed >>= 8
        mixed += self.edge_rgb[keep]
        blended = np.minimum(mixed, 255).astype(np.uint8)
        out.view("V3").reshape(-1)[index] = blended.view("V3")[:, 0]


Patch = np.ndarray | _Cutout | yuv.Planes  # RGB, a cutout for background.png, or planes


class SpriteRenderer:
    """Renders ``MotionFrame``s of one sprite set at one output size."""

    def __init__(
        self, persona_sprite_dir: Path, width: int, height: int, background: str, pixel_format: str = "rgb24",
        layers_cache: tuple[Path, str] | None = None,
    ) -> None:
        """``layers_cache`` is (folder, persona fingerprint): where what opening works out (the layout, the
        decoded layers, the painted canvas) is kept between processes."""
        if pixel_format not in PIXEL_FORMATS:
            raise ValueError(f"pixel_format must be one of {', '.join(PIXEL_FORMATS)}, got {pixel_format!r}")
        check_sprite_dir(persona_sprite_dir)
        self.width, self.height = width, height
        self.pixel_format = pixel_format
        self._bg_colour = _bg_colour(background)
        self._planes = pixel_format == "yuv420p" and self._bg_colour is not None
        short = min(width, height)
        self.pad = max(2, round(short * MARGIN))
        folder, fingerprint = layers_cache or (None, "")

        def kept(name: str, make: Callable[[], sprite_cache.Arrays]) -> sprite_cache.Arrays:
            return sprite_cache.kept(folder, f"{fingerprint}-{name}", make)

        layout = kept("layout", lambda: {"full_bleed": np.array(
            _fills_the_square(open_layer(persona_sprite_dir / "base.png")))})
        if layout["full_bleed"]:
            # Drawn past every edge by `pad`: no sway can uncover an edge of the picture.
            self.size = short + 2 * self.pad
            self.origin = ((height - short) // 2 - self.pad, (width - short) // 2 - self.pad)
        else:
            # The character fills the short side, centred and bottom-anchored, overhanging the
            # bottom by `pad`: swaying up never shows where the drawing cuts off the body, and
            # the head, which sits below the top of the drawing, never leaves the frame.
            self.size = short
            self.origin = (height - short + self.pad, (width - short) // 2)
        self.layers = self._load_layers(persona_sprite_dir, kept)
        self.regions = self._regions(PLANES_MARGIN if self._planes else 0)
        available = set(self.layers)
        self._mouths = {(e, v): mouth_layer(v, available, e) for e in Expression for v in Viseme}
        self._open_eyes = {e: open_eyes_layer(e, available) for e in Expression}
        self._patches: OrderedDict[tuple[object, ...], Patch] = OrderedDict()
        self._patch_bytes = 0
        self._lock = threading.Lock()  # the engine may share one renderer between worker threads
        if self._bg_colour is None:
            self._bg_image = _cover(open_layer(persona_sprite_dir / BACKGROUND_FILE), width, height)
            self._static = _Cutout(_to_u8(self._static_rgba(cut_regions=True)), width)
        else:
            colour = self._bg_colour
            canvas = f"{width}x{height}-{background.lstrip('#').lower()}-canvas-{pixel_format}"
            self._canvas: np.ndarray | yuv.Planes = (
                yuv.Planes.from_arrays(kept(canvas, lambda: yuv.Planes.of(self._flat_canvas(colour)).arrays()))
                if self._planes else kept(canvas, lambda: {"rgb": self._flat_canvas(colour)})["rgb"])

    def render(self, frame: MotionFrame) -> np.ndarray:
        """One uint8 C-contiguous frame: (height, width, 3) RGB, or yuv420p planes stacked
        as ``(height * 3 // 2, width)`` (see ``engine.yuv``)."""
        dx = _clamp(round(frame.head_x), self.pad)
        dy = _clamp(round(frame.head_y), self.pad)
        state = self._state(frame)
        p = self.pad
        if self._bg_colour is None:
            out = self._bg_image.copy()
            self._static.draw(out, self.origin[0] + dy, self.origin[1] + dx)
        elif isinstance(self._canvas, yuv.Planes):
            out = np.empty((self.height * 3 // 2, self.width), np.uint8)
            self._canvas.draw(out, dy - p, dx - p)
        else:
            out = self._canvas[p - dy : p - dy + self.height, p - dx : p - dx + self.width].copy()
        for region in self.regions:
            y, x = self.origin[0] + region.box[0] + dy, self.origin[1] + region.box[1] + dx
            patch = self._patch(region, state)
            if not isinstance(patch, np.ndarray):
                patch.draw(out, y, x)
            elif spans := _overlap(out.shape, patch.shape, y, x):
                out[spans[0]] = patch[spans[1]]
        if self.pixel_format == "yuv420p" and not self._planes:
            return yuv.from_rgb(out)
        return out

    # -- state and its cached patches -----------------------------------------------------

    def _state(self, frame: MotionFrame) -> State:
        if frame.eyes_closed >= 0.66:
            eyes = "eyes_closed"
        elif frame.eyes_closed >= 0.33:
            eyes = "eyes_half" if "eyes_half" in self.layers else "eyes_closed"
        else:
            eyes = self._open_eyes[frame.expression]
        brows = next((b for b in (f"brows_{frame.expression.value}", "brows_neutral") if b in self.layers), "")
        step = round(min(max(frame.mouth_blend, 0.0), 1.0) * BLEND_STEPS)
        mouth, target = self._mouths[frame.expression, frame.mouth], self._mouths[frame.expression, frame.mouth_next]
        if step == BLEND_STEPS:
            mouth, step = target, 0
        if step == 0 or mouth == target:
            target, step = mouth, 0
        return eyes, brows, mouth, target, step

    def _patch(self, region: _Region, state: State) -> Patch:
        key = region.key(state)
        with self._lock:
            patch = self._patches.get(key)
            if patch is not None:
                self._patches.move_to_end(key)
                return patch
        patch = self._compose(region, state)
        with self._lock:
            if key not in self._patches:
                self._patches[key] = patch
                self._patch_bytes += patch.nbytes
            while self._patch_bytes > CACHE_BYTES and len(self._patches) > len(self.regions):
                self._patch_bytes -= self._patches.popitem(last=False)[1].nbytes
        return patch

    def _compose(self, region: _Region, state: State) -> Patch:
        """The region fully composited: over a flat background RGB or its planes, else a premultiplied cutout."""
        eyes, brows, mouth, target, step = state
        acc = np.zeros((*_box_size(region.box), 4), np.float32)
        top = region.box[:2]
        _over(acc, self.layers["base"], top)
        if region.eyes:
            _over(acc, self.layers[eyes], top)
            if brows:
                _over(acc, self.layers[brows], top)
        if region.mouth:
            _over(acc, _morph(self.layers[mouth], self.layers[target], step / BLEND_STEPS), top)
        if "front" in self.layers:
            _over(acc, self.layers["front"], top)
        if self._bg_colour is None:
            return _Cutout(_to_u8(acc), self.width)
        rgb = _to_u8(_flatten(acc, self._bg_colour))
        if not self._planes:
            return rgb
        # Rows for a frame edge only where the head's sway can take the region to one.
        highest, lowest = self.origin[0] + region.box[0] - self.pad, self.origin[0] + region.box[2] + self.pad
        return yuv.Planes.of(rgb, inset=1, edges=highest < 3 or lowest > self.height - 3)

    # -- one-time preparation -------------------------------------------------------------

    def _load_layers(self, sprite_dir: Path, kept: Keep) -> dict[str, _Layer]:
        """Each layer's 8-bit RGBA cropped to what it draws (``NAME``) and its place (``NAME@``: top, left)."""
        def decode() -> sprite_cache.Arrays:
            layers = {}
            for name in (*REQUIRED_LAYERS, *OPTIONAL_LAYERS):
                path = sprite_dir / f"{name}.png"
                if path.is_file():
                    image = open_layer(path)
                    if image.size != (self.size, self.size):
                        image = image.resize((self.size, self.size), Image.Resampling.LANCZOS)
                    layers[name], layers[f"{name}@"] = _cropped(image)
            return layers

        stored = kept(f"{self.size}-layers", decode)
        return {name: _premultiplied_layer(rgba, int(stored[f"{name}@"][0]), int(stored[f"{name}@"][1]))
                for name, rgba in stored.items() if not name.endswith("@")}

    def _regions(self, margin: int) -> tuple[_Region, ...]:
        """Eyes and mouth get separate patches (far fewer states to cache) unless they overlap.

        Each region reaches ``margin`` pixels past what its layers draw, and the grown
        boxes must not overlap: a patch would paint over what the other one draws.
        """
        eyes = _union_box([layer.box for name, layer in self.layers.items() if name.startswith(("eyes_", "brows_"))])
        mouth = _union_box([layer.box for name, layer in self.layers.items() if name.startswith("mouth_")])
        eyes, mouth = _grow(eyes, margin), _grow(mouth, margin)
        if eyes[0] < mouth[2] and mouth[0] < eyes[2] and eyes[1] < mouth[3] and mouth[1] < eyes[3]:
            return (_Region(_union_box([eyes, mouth]), eyes=True, mouth=True),)
        return _Region(eyes, eyes=True, mouth=False), _Region(mouth, eyes=False, mouth=True)

    def _static_rgba(self, cut_regions: bool) -> np.ndarray:
        """Base and front over the whole character, premultiplied RGBA."""
        acc = np.zeros((self.size, self.size, 4), np.float32)
        _over(acc, self.layers["base"], (0, 0))
        if "front" in self.layers:
            _over(acc, self.layers["front"], (0, 0))
        if cut_regions:  # their patches are drawn over the bare background instead
            for y0, x0, y1, x1 in (region.box for region in self.regions):
                acc[y0:y1, x0:x1] = 0.0
        return acc

    def _flat_canvas(self, colour: np.ndarray) -> np.ndarray:
        """Background colour plus the static character, padded by ``pad`` on every side."""
        p = self.pad
        canvas = np.empty((self.height + 2 * p, self.width + 2 * p, 3), np.uint8)
        canvas[:] = np.round(colour * 255).astype(np.uint8)
        character = _to_u8(_flatten(self._static_rgba(cut_regions=False), colour))
        if spans := _overlap(canvas.shape, character.shape, p + self.origin[0], p + self.origin[1]):
            canvas[spans[0]] = character[spans[1]]
        return canvas


# -- pixel helpers ------------------------------------------------------------------------


def _fills_the_square(base: Image.Image) -> bool:
    """Whether the drawing reaches across its top or a side edge (a full-bleed picture)."""
    alpha = np.asarray(base.getchannel("A"))
    return any(float((edge >= 250).mean()) >= FULL_BLEED for edge in (alpha[0], alpha[:, 0], alpha[:, -1]))


def _bg_colour(background: str) -> np.ndarray | None:
    if is_hex_colour(background):
        return np.array([int(background[i : i + 2], 16) for i in (1, 3, 5)], np.float32) / 255
    if background == BACKGROUND_FILE:
        return None
    raise ValueError(f"background must be a colour like '#336699' or '{BACKGROUND_FILE}', got {background!r}")


def _cropped(image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """The layer's RGBA cropped to its visible content, and where that sits (top, left)."""
    left, top, right, bottom = image.getchannel("A").getbbox() or (0, 0, 1, 1)
    return np.asarray(image.crop((left, top, right, bottom))), np.array([top, left])


def _premultiplied_layer(rgba8: np.ndarray, top: int, left: int) -> _Layer:
    """A cropped layer as premultiplied float32 RGBA."""
    rgba = rgba8.astype(np.float32) / 255
    rgba[..., :3] *= rgba[..., 3:]
    return _Layer(top, left, rgba)


def _union_box(boxes: list[Box]) -> Box:
    return min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)


def _grow(box: Box, margin: int) -> Box:
    return box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin


def _box_size(box: Box) -> tuple[int, int]:
    return box[2] - box[0], box[3] - box[1]


def _morph(a: _Layer, b: _Layer, t: float) -> _Layer:
    """A mouth ``t`` of the way from ``a`` to ``b``: one picture, the more open of the two, scaled
    into a box between theirs. (A cross-fade would show both mouths at once, one through the other.)"""
    if t == 0.0 or a is b:
        return a
    shape = max((a, b), key=lambda layer: float(layer.rgba[..., 3].sum()))
    top, left, bottom, right = (round(p + (q - p) * t) for p, q in zip(a.box, b.box))
    size = (max(right - left, 1), max(bottom - top, 1))
    # Premultiplied channels resize correctly one by one (Pillow's float mode).
    channels = [np.asarray(Image.fromarray(np.ascontiguousarray(shape.rgba[..., c])).resize(
        size, Image.Resampling.BILINEAR)) for c in range(4)]
    return _Layer(top, left, np.clip(np.stack(channels, axis=-1), 0.0, 1.0))


def _over(acc: np.ndarray, layer: _Layer, top: tuple[int, int]) -> None:
    """Premultiplied alpha-over of ``layer`` onto ``acc``, whose (0, 0) is ``top`` on the character."""
    y0, x0 = max(layer.y - top[0], 0), max(layer.x - top[1], 0)
    y1 = min(layer.box[2] - top[0], acc.shape[0])
    x1 = min(layer.box[3] - top[1], acc.shape[1])
    if y1 <= y0 or x1 <= x0:
        return
    src = layer.rgba[y0 + top[0] - layer.y : y1 + top[0] - layer.y, x0 + top[1] - layer.x : x1 + top[1] - layer.x]
    dst = acc[y0:y1, x0:x1]
    dst *= 1 - src[..., 3:]
    dst += src


def _flatten(rgba: np.ndarray, colour: np.ndarray) -> np.ndarray:
    return rgba[..., :3] + colour * (1 - rgba[..., 3:])


def _to_u8(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.clip(np.round(values * 255), 0, 255).astype(np.uint8))


def _cover(image: Image.Image, width: int, height: int) -> np.ndarray:
    """Scale to cover width×height and crop the centre (the background may be any shape)."""
    scale = max(width / image.width, height / image.height)
    size = (max(width, round(image.width * scale)), max(height, round(image.height * scale)))
    image = image.resize(size, Image.Resampling.LANCZOS)
    left, top = (size[0] - width) // 2, (size[1] - height) // 2
    rgb = image.crop((left, top, left + width, top + height)).convert("RGB")
    return np.ascontiguousarray(np.asarray(rgb, np.uint8))


def _clamp(value: int, limit: int) -> int:
    return min(max(value, -limit), limit)


def _overlap(out_shape: tuple[int, ...], src_shape: tuple[int, ...], y: int, x: int) -> tuple[Spans, Spans] | None:
    """Index spans of ``out`` and ``src`` where ``src`` placed at (y, x) overlaps ``out``."""
    y0, x0 = max(y, 0), max(x, 0)
    y1, x1 = min(y + src_shape[0], out_shape[0]), min(x + src_shape[1], out_shape[1])
    if y1 <= y0 or x1 <= x0:
        return None
    return (slice(y0, y1), slice(x0, x1)), (slice(y0 - y, y1 - y), slice(x0 - x, x1 - x))
