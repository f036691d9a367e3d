"""RGB → yuv420p as the encoder's swscale converts it, for frames assembled from pieces.

The matrix is BT.601 into limited range; a chroma cell averages two columns and weighs
four rows 1, 3, 3, 1 (swscale's default bilinear 2:1 filter, clamped at the frame's top
and bottom), which lands within a level of ``VideoFrame.reformat(format="yuv420p")``.
Frames are the planes stacked as ``VideoFrame.to_ndarray()`` gives them:
``(height * 3 // 2, width)`` uint8.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

_LUMA = (np.array([0.299, 0.587, 0.114]) * 219 / 255).astype(np.float32)
# U and V columns, with the 1/16 of the chroma filter's taps folded in.
_CHROMA = (np.array([[-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]]).T * 224 / 255 / 16).astype(np.float32)


def split(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y, U and V planes of a stacked yuv420p frame."""
    height, width = frame.shape[0] * 2 // 3, frame.shape[1]
    flat = frame.reshape(-1)
    luma, quarter = height * width, height * width // 4
    return (frame[:height],
            flat[luma : luma + quarter].reshape(height // 2, width // 2),
            flat[luma + quarter :].reshape(height // 2, width // 2))


def from_rgb(rgb: np.ndarray) -> np.ndarray:
    """A whole (H, W, 3) RGB frame, stacked: swscale itself does that fastest."""
    import av  # slow to import, and not needed for planes

    return av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p").to_ndarray()


@dataclass(frozen=True)
class Planes:
    """An RGB picture in yuv420p pieces, ready to be copied into frames at any offset.

    Which pixels share a chroma cell depends on the parity of the offset, so U and V are
    kept for all four: index ``2 * (row parity) + column parity``. A frame's first and
    last cell rows are filtered clamped at its edge, so ``top`` and ``bottom`` (U and V on
    the last axis, by column parity) hold those for a frame edge at each of our rows; a
    picture made without ``edges`` must stay three rows clear of the frame's top and
    bottom. An ``inset`` picture leaves out its outermost cells, whose filter taps reach
    beyond it, so it may differ from what it is drawn over only four or more pixels in
    from its edges.
    """

    y: np.ndarray
    u: tuple[np.ndarray, ...]
    v: tuple[np.ndarray, ...]
    top: tuple[np.ndarray, ...]
    bottom: tuple[np.ndarray, ...]
    inset: int

    @classmethod
    def of(cls, rgb: np.ndarray, inset: int = 0, edges: bool = True) -> Planes:
        rows = [r[:, inset : r.shape[1] - inset] for r in (_row_chroma(rgb, 0), _row_chroma(rgb, 1))]
        us, vs = [], []
        for py, px in ((0, 0), (0, 1), (1, 0), (1, 1)):
            cells = _cells(rows[px], py)
            cells = _to_u8(cells[inset : cells.shape[0] - inset] + 128)
            us.append(np.ascontiguousarray(cells[..., 0]))
            vs.append(np.ascontiguousarray(cells[..., 1]))
        top = tuple(_to_u8(4 * r[:-2] + 3 * r[1:-1] + r[2:] + 128) for r in rows) if edges else ()
        bottom = tuple(_to_u8(r[:-2] + 3 * r[1:-1] + 4 * r[2:] + 128) for r in rows) if edges else ()
        return cls(_to_u8(rgb.astype(np.float32) @ _LUMA + 16), tuple(us), tuple(vs), top, bottom, inset)

    def arrays(self) -> dict[str, np.ndarray]:
        """Named arrays to keep on disk (``engine.sprite_cache``); ``from_arrays`` reads them back."""
        named = {"y": self.y, "inset": np.array(self.inset)}
        for part in ("u", "v", "top", "bottom"):
            named.update({f"{part}{i}": array for i, array in enumerate(getattr(self, part))})
        return named

    @classmethod
    def from_arrays(cls, named: Mapping[str, np.ndarray]) -> Planes:
        def part(name: str) -> tuple[np.ndarray, ...]:
            count = 0
            while f"{name}{count}" in named:
                count += 1
            return tuple(named[f"{name}{i}"] for i in range(count))

        return cls(named["y"], part("u"), part("v"), part("top"), part("bottom"), int(named["inset"]))

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.y, *self.u, *self.v, *self.top, *self.bottom))

    def draw(self, frame: np.ndarray, y: int, x: int) -> None:
        """Copy into a stacked yuv420p ``frame`` with our top-left pixel at (y, x) (may overhang)."""
        fy, fu, fv = split(frame)
        _paste(fy, self.y, y, x)
        # The frame's cell (k, j) starts at its pixel (2k, 2j), which is our (2k - y, 2j - x).
        phase = 2 * (y % 2) + x % 2
        cy, cx = (y + 1) // 2 + self.inset, (x + 1) // 2 + self.inset
        _paste(fu, self.u[phase], cy, cx)
        _paste(fv, self.v[phase], cy, cx)
        for row, edges, first in ((0, self.top, -y), (fu.shape[0] - 1, self.bottom, fy.shape[0] - 3 - y)):
            if edges and 0 <= first < edges[x % 2].shape[0]:  # we hold all the rows that cell row weighs
                _paste(fu, edges[x % 2][first : first + 1, :, 0], row, cx)
                _paste(fv, edges[x % 2][first : first + 1, :, 1], row, cx)


def _row_chroma(rgb: np.ndarray, px: int) -> np.ndarray:
    """Each row's U and V (last axis) summed over the column pairs from ``px``."""
    uv = rgb[:, px : px + (rgb.shape[1] - px) // 2 * 2].astype(np.float32) @ _CHROMA
    return uv[:, 0::2] + uv[:, 1::2]


def _cells(rows: np.ndarray, py: int) -> np.ndarray:
    """Cell k weighs rows py + 2k - 1 … py + 2k + 2 by 1, 3, 3, 1, clamped at the ends."""
    n = (rows.shape[0] - py) // 2 * 2
    taps = np.concatenate((rows[:1], rows, rows[-1:]))[py:]  # taps[i] is row py + i - 1
    return taps[0:n:2] + taps[3 : n + 3 : 2] + 3 * (taps[1 : n + 1 : 2] + taps[2 : n + 2 : 2])


def _paste(dst: np.ndarray, src: np.ndarray, y: int, x: int) -> None:
    y0, x0 = max(y, 0), max(x, 0)
    y1, x1 = min(y + src.shape[0], dst.shape[0]), min(x + src.shape[1], dst.shape[1])
    if y1 > y0 and x1 > x0:
        dst[y0:y1, x0:x1] = src[y0 - y : y1 - y, x0 - x : x1 - x]


def _to_u8(values: np.ndarray) -> np.ndarray:
    return np.clip(np.round(values), 0, 255).astype(np.uint8)


def region_rgb(frame: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """RGB of the (top, left, bottom, right) part of a stacked yuv420p frame; a multiple of 4 high, even wide."""
    import av

    top, left, bottom, right = box
    luma, u, v = split(frame)
    cells = np.s_[top // 2 : bottom // 2, left // 2 : right // 2]
    part = np.concatenate([luma[top:bottom, left:right], *(np.ascontiguousarray(c[cells]).reshape(-1, right - left)
                                                            for c in (u, v))])
    return av.VideoFrame.from_ndarray(part, format="yuv420p").to_ndarray(format="rgb24")


def paste(frame: np.ndarray, patch: np.ndarray, top: int, left: int) -> None:
    """Copy stacked yuv420p ``patch`` into stacked yuv420p ``frame`` at an even (top, left)."""
    for dst, src, scale in zip(split(frame), split(patch), (1, 2, 2)):
        y, x = top // scale, left // scale
        dst[y : y + src.shape[0], x : x + src.shape[1]] = src
