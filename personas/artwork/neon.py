"""Neon: a cyberpunk netrunner with an LED visor for eyes, a glowing tech collar and hard edges."""

from __future__ import annotations

from collections.abc import Sequence

from personas.artwork.common import Colour, Layer, Point, bezier, compose, gradient, rgb, through
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
    return compose(_neck(), _jacket(), _face(), _hair(), _visor())


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
    """A neck that narrows under the jaw and widens towards the shoulders, shaded under the jaw
    and on the side away from the light, with a cable choker following its curve."""
    outline = bezier((230, 316), (233, 350), (230, 378), (208, 404)) + bezier((304, 404), (282, 378), (279, 350),
                                                                               (282, 316))
    neck = Layer().shape(outline, SKIN, INK, 3)
    mask = Layer().polygon(outline, SKIN)
    jaw = through((222, 326), (256, 366), (290, 326)) + [(290, 300), (222, 300)]
    neck.over(Layer().polygon(jaw, SKIN_SHADE).clip(mask))
    neck.over(Layer().polygon([(200, 300), (240, 300), (244, 410), (200, 410)], SKIN_SHADE).clip(mask).fade(0.55))
    for side in (-1, 1):  # the tendons running down to the collarbone
        neck.line(through((256 + side * 12, 380), (256 + side * 20, 390), (256 + side * 32, 398)), SKIN_SHADE, 2)
    band = through((229, 360), (256, 368), (283, 360)) + through((284, 373), (256, 381), (228, 373))
    neck.shape(band, rgb("#24223F"), INK, 2.5)
    return neck.over(_neon(through((232, 367), (256, 375), (280, 367)), CYAN, 2.5))


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


def _eye_shape(cx: float, cy: float, top: float, bottom: float, tilt: float = 0.0, side: int = 1) -> list[Point]:
    """A flat hexagon spanning ``top``..``bottom`` around the eye's centre; ``tilt`` lowers the top's
    outer corner (negative: the inner one)."""
    mid = cy + (top + bottom) / 2
    inner, outer = cy + top + max(-tilt, 0), cy + top + max(tilt, 0)
    left, right = (outer, inner) if side < 0 else (inner, outer)
    return [(cx - 21, mid), (cx - 13, left), (cx + 13, right),
            (cx + 21, mid), (cx + 13, cy + bottom), (cx - 13, cy + bottom)]


def _arc(cx: float, cy: float, rise: float) -> list[Point]:
    """A chevron band 8 px thick whose middle is ``rise`` px above its ends: ^ (rise > 0) or v."""
    return [(cx - 22, cy), (cx, cy - rise), (cx + 22, cy), (cx + 22, cy + 8), (cx, cy + 8 - rise), (cx - 22, cy + 8)]


def _eyes() -> dict[str, Layer]:
    """The visor's LED eyes. Shut, they are dark but for a thin curved line, so a blink reads
    from across the room; each mood reshapes the open ones."""
    shapes = {
        "eyes_open": lambda cx, cy, side: _eye_shape(cx, cy, -12, 12),
        "eyes_half": lambda cx, cy, side: _eye_shape(cx, cy, -1, 11),
        "eyes_closed": lambda cx, cy, side: _arc(cx, cy + 2, -6),
        "eyes_open_happy": lambda cx, cy, side: _arc(cx, cy + 2, 13),
        "eyes_open_sad": lambda cx, cy, side: _eye_shape(cx, cy, -10, 10, tilt=12, side=side),
        "eyes_open_angry": lambda cx, cy, side: _eye_shape(cx, cy, -10, 9, tilt=-13, side=side),
        "eyes_open_surprised": lambda cx, cy, side: _eye_shape(cx, cy, -17, 16),
    }
    return {name: compose(*(_led(shape(cx, cy, side)) for (cx, cy), side in zip(EYES, (-1, 1))))
            for name, shape in shapes.items()}


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
