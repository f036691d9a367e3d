"""Neon: a cyberpunk netrunner with an LED visor for eyes, a glowing tech collar and hard edges."""

from __future__ import annotations

from collections.abc import Sequence

from personas.artwork.common import Colour, Layer, Point, compose, gradient, rgb
from personas.artwork.mouths import MouthStyle, draw_mouths

NAME = "neon"
VIEW = (56, 48, 456, 448)
TOML = '''\
name = "neon"
display_name = "Neon"
style = "cyberpunk"
description = "A laid-back netrunner with an LED visor who has seen the whole grid and still thinks you're cool."
greeting = "Signal acquired: {name}. Welcome to {server}, choom. Jack in and stay a while."
system_prompt = """
You are Neon, a cyberpunk netrunner who talks to people through a glowing LED visor.
You are cool, dry and quick-witted, with a soft spot for newcomers; you use a little
street slang ("choom", "preem", "the grid"), keep answers short and sharp, and never
pretend to hack anything for real.
"""
background = "#0E0B1C"

[voice]
language = "en-us"
variant = "m3"
pitch = 32
rate = 185
pitch_range = 40
'''

INK = rgb("#07060D")
SKIN = rgb("#C99584")
SKIN_SHADE = rgb("#8A5866")
HAIR = rgb("#1D1834")
HAIR_LIGHT = rgb("#3B3168")
CYAN = rgb("#3EF2FF")
MAGENTA = rgb("#FF2E97")
LED = rgb("#62F7FF")
JACKET = rgb("#1A1930")
JACKET_LIGHT = rgb("#2D2B52")
GLASS = rgb("#0A0E22", 240)
EYES = ((216.0, 262.0), (296.0, 262.0))
VISOR = [(160, 244), (178, 222), (334, 222), (352, 244), (348, 274), (330, 294), (182, 294), (164, 274)]
MOUTH = MouthStyle(
    cx=256, cy=328, scale=0.9, line=INK, width=3.2, inside=rgb("#26091F"),
    tongue=rgb("#C2416F"), teeth=rgb("#E4F6FF"), lips=rgb("#96506E"), samples=2,
)


def layers() -> dict[str, Layer]:
    return {"base": _base(), **_eyes(), **_brows(), **draw_mouths(MOUTH), "front": _glare()}


def _neon(points: Sequence[Point], colour: Colour, width: float, closed: bool = False) -> Layer:
    """A glowing tube: a bright core line with a soft halo of its colour."""
    tube = Layer().line(points, colour, width, closed=closed)
    tube.over(Layer().line(points, rgb("#FFFFFF", 200), width * 0.35, closed=closed))
    return tube.glow(width * 2.2, 0.9)


def _base() -> Layer:
    return compose(_jacket(), _neck(), _face(), _hair(), _visor())


def _jacket() -> Layer:
    body = [(214, 388), (298, 388), (392, 420), (432, 470), (440, 540), (72, 540), (80, 470), (120, 420)]
    layer = Layer().shape(body, JACKET, INK, 3)
    for side in (-1, 1):
        collar = [(34, 350), (70, 372), (92, 430), (40, 456), (24, 404)]
        layer.shape([(256 + side * x, y) for x, y in collar], JACKET_LIGHT, INK, 3)
        panel = [(96, 470), (150, 452), (168, 500), (104, 520)]
        layer.polygon([(256 + side * x, y) for x, y in panel], JACKET_LIGHT)
    layer.over(_neon([(226, 362), (200, 376), (182, 430)], CYAN, 3))
    layer.over(_neon([(286, 362), (312, 376), (330, 430)], CYAN, 3))
    layer.over(_neon([(120, 470), (160, 456), (176, 500)], MAGENTA, 2.5))
    return layer.over(_neon([(214, 440), (226, 452)], MAGENTA, 4))


def _neck() -> Layer:
    neck = Layer().shape([(228, 320), (284, 320), (288, 400), (224, 400)], SKIN, INK, 3)
    neck.polygon([(228, 320), (284, 320), (284, 350), (256, 372), (228, 350)], SKIN_SHADE)
    ring = [(222, 368), (290, 368), (292, 388), (220, 388)]
    neck.shape(ring, rgb("#24223F"), INK, 2.5)
    return neck.over(_neon([(230, 378), (282, 378)], CYAN, 2.5))


def _face() -> Layer:
    outline = [
        (176, 190), (172, 262), (188, 320), (226, 360), (256, 368),
        (286, 360), (324, 320), (340, 262), (336, 190), (256, 150),
    ]
    face = Layer().shape(outline, SKIN, INK, 3)
    mask = Layer().polygon(outline, SKIN)
    shade = Layer().polygon([(160, 180), (210, 180), (200, 290), (230, 330), (244, 372), (160, 372)], SKIN_SHADE)
    face.over(shade.clip(mask))
    for side, colour in ((-1, MAGENTA), (1, CYAN)):  # coloured rim light from the city signs
        face.over(_neon([(256 + side * 84, 262), (256 + side * 68, 320), (256 + side * 32, 358)], colour, 2))
    face.over(_neon([(188, 306), (204, 306), (212, 318), (224, 318)], MAGENTA, 2))
    face.ellipse(224, 318, 3, 3, MAGENTA)
    face.line([(256, 286), (250, 304), (258, 306)], rgb("#6E4550"), 2.5)
    for side in (-1, 1):
        ear = [(256 + side * 82, 236), (256 + side * 96, 240), (256 + side * 94, 282), (256 + side * 82, 292)]
        face.shape(ear, SKIN, INK, 3)
    return face.over(_neon([(166, 250), (174, 252), (174, 270), (166, 272)], CYAN, 3, closed=True))


def _hair() -> Layer:
    shaved = Layer().polygon([(172, 236), (172, 170), (200, 150), (200, 228)], rgb("#3A2C3C"))
    shaved.polygon([(340, 236), (340, 170), (312, 150), (312, 228)], rgb("#3A2C3C"))
    top = [
        (168, 176), (152, 148), (172, 128), (168, 102), (200, 96), (208, 74), (238, 80), (254, 60),
        (282, 74), (316, 64), (326, 88), (364, 86), (358, 112), (394, 128), (368, 148), (366, 176),
        (356, 236), (338, 214), (332, 250), (312, 196), (290, 206), (270, 176), (236, 182),
        (214, 168), (192, 184),
    ]
    mask = Layer().polygon(top, HAIR)
    hair = gradient(mask, HAIR_LIGHT, HAIR, 80, 200)
    streak = Layer().polygon([(250, 66), (268, 62), (334, 150), (338, 214), (322, 196), (296, 130)], MAGENTA)
    hair.over(streak.clip(mask))
    for a, b in (((206, 96), (244, 150)), ((234, 86), (262, 140)), ((312, 90), (350, 150)), ((178, 130), (200, 160))):
        hair.line([a, b], HAIR_LIGHT, 2.5)
    hair.line(top, INK, 3, closed=True)
    return compose(shaved, hair)


def _visor() -> Layer:
    visor = Layer().shape(VISOR, GLASS, INK, 5)
    visor.over(_neon(VISOR, CYAN, 2.2, closed=True))
    for x in (164, 348):
        visor.shape([(x - 6, 250), (x + 6, 250), (x + 6, 268), (x - 6, 268)], rgb("#2B2950"), INK, 2)
    return visor


def _led(points: list[Point]) -> Layer:
    """An LED-display shape: glowing, with a white-hot core and dark scanlines."""
    shape = Layer().polygon(points, LED)
    shape.over(Layer().polygon(points, rgb("#F2FFFF")).blurred(2.5).clip(shape).fade(0.75))
    lines = Layer()
    for y in range(200, 320, 4):
        lines.line([(120, y), (400, y)], rgb("#0A0E22", 110), 1.1)
    shape.over(lines.clip(shape))
    return shape.glow(5)


def _eye_shape(cx: float, cy: float, top: float, bottom: float) -> list[Point]:
    """A flat hexagon spanning ``top``..``bottom`` around the eye's centre."""
    mid = cy + (top + bottom) / 2
    return [(cx - 21, mid), (cx - 13, cy + top), (cx + 13, cy + top),
            (cx + 21, mid), (cx + 13, cy + bottom), (cx - 13, cy + bottom)]


def _eyes() -> dict[str, Layer]:
    shapes = {"eyes_open": (-12, 12), "eyes_half": (-2, 11), "eyes_closed": (1, 4)}
    out = {}
    for name, (top, bottom) in shapes.items():
        out[name] = compose(*(_led(_eye_shape(cx, cy, top, bottom)) for cx, cy in EYES))
    return out


#: (outer end, inner end) heights of each LED brow bar relative to its resting line.
BROWS = {"neutral": (0, 0), "happy": (2, -3), "sad": (4, -6), "surprised": (-5, -5), "angry": (-6, 4)}


def _brows() -> dict[str, Layer]:
    out = {}
    for expression, (outer, inner) in BROWS.items():
        bars = []
        for (cx, cy), side in zip(EYES, (-1, 1)):
            y = cy - 25
            o, i = (cx + side * 20, y + outer), (cx - side * 18, y + inner)
            bars.append(_led([(o[0], o[1] - 2), (i[0], i[1] - 2), (i[0], i[1] + 2), (o[0], o[1] + 2)]))
        out[f"brows_{expression}"] = compose(*bars)
    return out


def _glare() -> Layer:
    """Reflections on the visor glass, over the LEDs."""
    glass = Layer().polygon(VISOR, GLASS)
    glare = Layer().polygon([(190, 222), (222, 222), (186, 294), (154, 294)], rgb("#FFFFFF", 40))
    glare.polygon([(232, 222), (242, 222), (206, 294), (196, 294)], rgb("#FFFFFF", 30))
    return glare.clip(glass)
