"""One mouth per viseme, parameterised by style so each persona draws its own set.

Shapes are in "mouth units" around the anchor (the middle of the closed lip line): the
upper lip stays near y = 0 and the jaw drops, so every viseme sits at the same place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.types import Viseme
from personas.artwork.common import Colour, Layer, Point, ellipse_points, through


@dataclass(frozen=True)
class MouthStyle:
    cx: float
    cy: float
    scale: float  # 1.0: a wide-open mouth about 46 px across on the 512 canvas
    line: Colour
    width: float  # lip line width in canvas pixels
    inside: Colour
    tongue: Colour
    teeth: Colour
    lips: Colour
    samples: int = 24  # points per curve; 2 gives hard-edged, angular mouths

    def at(self, points: Sequence[Point]) -> list[Point]:
        return [(self.cx + x * self.scale, self.cy + y * self.scale) for x, y in points]

    def curve(self, p0: Point, mid: Point, p2: Point) -> list[Point]:
        return self.at(through(p0, mid, p2, n=self.samples))

    def oval(self, cx: float, cy: float, rx: float, ry: float) -> list[Point]:
        n = 8 if self.samples <= 4 else 48
        return self.at(ellipse_points(cx, cy, rx, ry, n=n, start=0.3927 if n == 8 else 0.0))


def draw_mouths(style: MouthStyle) -> dict[str, Layer]:
    """One mouth per viseme, and the resting mouth of each mood (``mouth_rest_sad``, …)."""
    return {**{f"mouth_{viseme.value}": draw(style) for viseme, draw in DRAWERS.items()}, **rest_mouths(style)}


def _lens(style: MouthStyle, w: float, corner: float, top: float, bottom: float) -> list[Point]:
    upper = style.curve((-w, corner), (0, top), (w, corner))
    lower = style.curve((w, corner), (0, bottom), (-w, corner))
    return upper + lower[1:-1]


def opening(
    style: MouthStyle,
    outline: list[Point],
    upper_teeth: float | None = None,
    lower_teeth: float | None = None,
    tongue: tuple[float, float, float, float] | None = None,
    tongue_tip: tuple[float, float, float, float] | None = None,
    rim: float = 1.0,
) -> Layer:
    """A dark mouth opening with optional teeth edges (y in mouth units) and tongue, outlined."""
    mask = Layer().polygon(outline, style.inside)
    inner = Layer().polygon(outline, style.inside)
    if tongue:
        inner.polygon(style.oval(*tongue), style.tongue)
    if tongue_tip:
        inner.polygon(style.oval(*tongue_tip), style.tongue)
    if upper_teeth is not None:  # everything above a gently curved edge; the clip trims it
        edge = style.curve((40, upper_teeth - 1.5), (0, upper_teeth), (-40, upper_teeth - 1.5))
        inner.polygon(style.at([(-60, -60), (60, -60)]) + edge, style.teeth)
    if lower_teeth is not None:
        edge = style.curve((-40, lower_teeth + 1), (0, lower_teeth), (40, lower_teeth + 1))
        inner.polygon(edge + style.at([(60, 80), (-60, 80)]), style.teeth)
    inner.clip(mask)
    return inner.line(outline, style.line, style.width * rim, closed=True)


def rest_mouths(style: MouthStyle) -> dict[str, Layer]:
    """The resting mouth of each mood: neutral is calm and nearly straight, happy a grin."""
    w = style.width
    sad = Layer().line(style.curve((-17, 6), (0, -2.5), (17, 6)), style.line, w)
    angry = opening(style, style.curve((-20, 1), (0, -2), (20, 1)) + style.curve((20, 1), (0, 7), (-20, 1))[1:-1],
                    upper_teeth=2.2, lower_teeth=2.2)
    angry.line(style.curve((-25, 5), (-22, 2), (-19, 0)), style.line, w * 0.8)
    angry.line(style.curve((19, 0), (22, 2), (25, 5)), style.line, w * 0.8)
    return {
        "mouth_rest": Layer().line(style.curve((-16, 0), (0, 1.5), (16, 0)), style.line, w),
        "mouth_rest_happy": opening(style, style.curve((-24, -5), (0, -1), (24, -5))
                                    + style.curve((24, -5), (0, 17), (-24, -5))[1:-1],
                                    upper_teeth=3, tongue=(0, 16, 11, 5)),
        "mouth_rest_sad": sad,
        "mouth_rest_angry": angry,
        "mouth_rest_surprised": opening(style, style.oval(0, 7, 8, 10)),
    }



def _mbp(style: MouthStyle) -> Layer:
    layer = Layer().line(style.curve((-16, 1), (0, 1.5), (16, 1)), style.line, style.width * 1.35)
    return layer.line(style.curve((-7, 7.5), (0, 9.5), (7, 7.5)), style.line, style.width * 0.6)


def _fv(style: MouthStyle) -> Layer:
    outline = _lens(style, 17, 0, -4, 8)
    layer = opening(style, outline, upper_teeth=5.5)
    layer.line(style.curve((-15, 2), (0, 8), (15, 2)), style.line, style.width * 1.2)
    return layer.line(style.curve((-8, 13.5), (0, 15), (8, 13.5)), style.line, style.width * 0.6)


def _ai(style: MouthStyle) -> Layer:
    return opening(style, _lens(style, 23, 0, -5, 32), upper_teeth=1.5, tongue=(0, 31, 15, 10))


def _e(style: MouthStyle) -> Layer:
    return opening(style, _lens(style, 26, -2, -5, 13), upper_teeth=2.5, lower_teeth=9)


def _o(style: MouthStyle) -> Layer:
    return opening(style, style.oval(0, 11, 15, 17), upper_teeth=-2.5, tongue=(0, 27, 10, 6))


def _u(style: MouthStyle) -> Layer:
    lips = style.oval(0, 8, 14, 14)
    layer = Layer().shape(lips, style.lips, style.line, style.width)
    return layer.over(opening(style, style.oval(0, 8, 7.5, 8.5), tongue=(0, 15, 5, 3), rim=0.5))


def _wq(style: MouthStyle) -> Layer:
    lips = style.oval(0, 6, 11, 10.5)
    layer = Layer().shape(lips, style.lips, style.line, style.width)
    layer.over(opening(style, style.oval(0, 6, 4, 3.5), rim=0.5))
    for side in (-1, 1):  # pucker creases beside the lips
        layer.line(style.curve((side * 15, 0), (side * 17.5, 6), (side * 15, 12)), style.line, style.width * 0.6)
    return layer


def _l(style: MouthStyle) -> Layer:
    return opening(style, _lens(style, 20, 0, -5, 23), upper_teeth=0.5, tongue=(0, 24, 15, 8),
                    tongue_tip=(0, 9, 7, 10))


def _etc(style: MouthStyle) -> Layer:
    return opening(style, _lens(style, 22, -1, -3.5, 9), upper_teeth=2.5, lower_teeth=5)


#: The mouth of each viseme but REST (the resting mouths depend on the mood: ``rest_mouths``).
DRAWERS = {
    Viseme.MBP: _mbp,
    Viseme.FV: _fv,
    Viseme.AI: _ai,
    Viseme.E: _e,
    Viseme.O: _o,
    Viseme.U: _u,
    Viseme.WQ: _wq,
    Viseme.L: _l,
    Viseme.ETC: _etc,
}
