"""Pip: a round, warm cartoon bear-cub mascot on a soft mint background (the default persona)."""

from __future__ import annotations

from personas.artwork.common import Layer, compose, rgb, taper, through
from personas.artwork.moods import mood_eyes
from personas.artwork.mouths import MouthStyle, draw_mouths

NAME = "friendly"
VIEW = (0, 0, 512, 512)
TOML = '''\
name = "friendly"
display_name = "Pip"
style = "friendly"
description = "A round, cheerful bear cub who is always glad to see you."
greeting = "Hi {name}! Welcome to {server} — I'm Pip, and I'm so glad you're here!"
system_prompt = """
You are Pip, a small round bear cub and this community's friendly mascot. You are warm,
upbeat and encouraging; you keep answers short and simple, cheer people on, remember
the little things they tell you, and never talk down to anyone.
"""
background = "#CDEBDF"

[voice]
language = "en-us"
variant = "m1"
pitch = 55
rate = 165
pitch_range = 65
'''

INK = rgb("#5B3A29")
FUR = rgb("#F4B06A")
FUR_SHADE = rgb("#E3964F")
MUZZLE = rgb("#FFEBD3")
EAR_IN = rgb("#F39C9C")
CHEEK = rgb("#F36F80")
SCARF = rgb("#E85D6A")
SCARF_LIGHT = rgb("#F58A8F")
EYE = rgb("#3A2418")
EYE_GLOW = rgb("#7A4A2C")
WHITE = rgb("#FFFFFF")
LW = 5.0
EYES = ((196.0, 238.0), (316.0, 238.0))
MOUTH = MouthStyle(
    cx=256, cy=303, scale=1.2, line=INK, width=4.5, inside=rgb("#6B2432"),
    tongue=rgb("#F27C8A"), teeth=rgb("#FFFDF7"), lips=rgb("#F6A4A0"),
)


def layers() -> dict[str, Layer]:
    moods = mood_eyes(lambda cx, cy, side: _open_eye(cx, cy), EYES, 24, 30, INK, LW)
    return {"base": _base(), **_eyes(), **moods, **_brows(), **draw_mouths(MOUTH)}


def _base() -> Layer:
    body_pts = through((70, 560), (256, 352), (442, 560), n=48)
    body = Layer().shape(body_pts, FUR, INK, LW)
    tummy = Layer().ellipse(256, 520, 92, 100, MUZZLE).clip(Layer().polygon(body_pts, FUR))
    ears = Layer()
    for x, side in ((148, -1), (364, 1)):
        ears.ellipse(x, 122, 52 + LW / 2, 52 + LW / 2, INK).ellipse(x, 122, 52 - LW / 2, 52 - LW / 2, FUR)
        ears.ellipse(x + side * 2, 126, 29, 27, EAR_IN)
    head_mask = Layer().ellipse(256, 242, 164, 146, FUR)
    head = Layer().ellipse(256, 242, 164 + LW / 2, 146 + LW / 2, INK).ellipse(256, 242, 164 - LW / 2, 146 - LW / 2, FUR)
    shade = Layer().ellipse(256, 242, 164, 146, FUR_SHADE).cut(Layer().ellipse(262, 224, 164, 146, FUR))
    shine = Layer().ellipse(190, 150, 58, 32, rgb("#FFD9A8")).blurred(10).clip(head_mask)
    tuft = Layer()
    for p0, mid, p2, w in (((246, 100), (232, 72), (208, 66), 16), ((258, 100), (262, 70), (284, 58), 18)):
        strand = taper(through(p0, mid, p2), w, start=1.0, end=0.1)
        tuft.shape(strand, FUR, INK, LW * 0.8)
    face = Layer()
    face.ellipse(256, 303, 70, 53, rgb("#EBCBA6")).ellipse(256, 303, 68, 51, MUZZLE)
    face.ellipse(256, 277, 14, 10, INK).ellipse(251, 273, 5, 3, rgb("#A07A66"))
    cheeks = Layer().ellipse(166, 300, 30, 17, CHEEK).ellipse(346, 300, 30, 17, CHEEK).blurred(5).fade(0.55)
    return compose(body, tummy, _scarf(), tuft, ears, head, shade.clip(head_mask), shine.fade(0.7), face, cheeks)


def _scarf() -> Layer:
    band = through((150, 386), (256, 414), (362, 386), n=32) + through((372, 418), (256, 450), (140, 418), n=32)
    scarf = Layer().shape(band, SCARF, INK, LW)
    scarf.line(through((146, 403), (256, 433), (366, 403), n=32), SCARF_LIGHT, 7)
    tail = [(300, 432), (334, 428), (350, 492), (316, 498)]
    scarf.shape(tail, SCARF, INK, LW)
    scarf.line([(318, 432), (333, 494)], SCARF_LIGHT, 6)
    knot = through((290, 420), (314, 404), (340, 422), n=12) + through((340, 422), (318, 450), (292, 442), n=12)
    return scarf.shape(knot, SCARF, INK, LW)


def _open_eye(cx: float, cy: float) -> Layer:
    eye = Layer().ellipse(cx, cy, 24, 30, EYE)
    glow = Layer().ellipse(cx - 2, cy + 20, 17, 12, EYE_GLOW).blurred(3).clip(eye)
    eye.over(glow)
    return eye.ellipse(cx + 8, cy - 11, 9, 10, WHITE).ellipse(cx - 9, cy + 12, 4.5, 4.5, WHITE)


def _eyes() -> dict[str, Layer]:
    opened, half, closed = Layer(), Layer(), Layer()
    for cx, cy in EYES:
        opened.over(_open_eye(cx, cy))
        lid = through((cx - 32, cy - 2), (cx, cy - 8), (cx + 32, cy - 2))
        below = Layer().polygon(lid + [(cx + 40, cy + 40), (cx - 40, cy + 40)], EYE)
        half.over(_open_eye(cx, cy).clip(below))
        half.line(through((cx - 27, cy - 1), (cx, cy - 7), (cx + 27, cy - 1)), INK, LW)
        closed.line(through((cx - 24, cy + 2), (cx, cy + 12), (cx + 24, cy + 2)), INK, LW * 1.2)
    return {"eyes_open": opened, "eyes_half": half, "eyes_closed": closed}


#: (outer end, middle, inner end) heights of each brow relative to its resting line.
BROWS = {
    "neutral": (2, -3, 2),
    "happy": (1, -9, 0),
    "sad": (6, -2, -10),
    "surprised": (-14, -24, -14),
    "angry": (-7, -1, 9),
}


def _brows() -> dict[str, Layer]:
    out = {}
    for expression, (outer, mid, inner) in BROWS.items():
        layer = Layer()
        for (cx, cy), side in zip(EYES, (-1, 1)):
            y = cy - 50
            stroke = through((cx + side * 19, y + outer), (cx, y + mid), (cx - side * 19, y + inner))
            layer.polygon(taper(stroke, 9, start=0.7, end=0.7), INK)
        out[f"brows_{expression}"] = layer
    return out
