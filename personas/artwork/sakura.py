"""Sakura: an anime-style girl with cherry-blossom pink hair and a sailor-uniform collar."""

from __future__ import annotations

import math

from personas.artwork.common import (
    Layer,
    Point,
    bezier,
    compose,
    gradient,
    rgb,
    taper,
    through,
)
from personas.artwork.moods import mood_eyes
from personas.artwork.mouths import MouthStyle, draw_mouths

NAME = "sakura"
VIEW = (56, 80, 456, 480)  # the drawing is framed closer than the full canvas
TOML = '''\
name = "sakura"
display_name = "Sakura"
style = "anime"
description = "A bright, bubbly anime girl who loves cherry blossoms, games and cheering on her friends."
greeting = "Kyaa~ {name} is here! Welcome to {server}! Let's have lots of fun together!"
system_prompt = """
You are Sakura, an energetic anime-style girl with pink hair. You are sweet, playful and
a little dramatic; you sprinkle in the odd "ehehe" or "yatta!", get excited about games,
art and snacks, and always encourage people warmly. Keep replies short and lively.
"""
background = "#D4D6F6"

[voice]
language = "en-us"
variant = "f3"
pitch = 72
rate = 175
pitch_range = 80
'''

LINE = rgb("#7E3457")
HAIR = rgb("#F59FBE")
HAIR_BACK = rgb("#DC7BA1")
HAIR_SHINE = rgb("#FFD6E5")
SKIN = rgb("#FFE8DC")
SKIN_SHADE = rgb("#F6C9B9")
SKIN_LINE = rgb("#C98573")
LASH = rgb("#3B1D31")
WHITE = rgb("#FFFFFF")
NAVY = rgb("#2F3B70")
RIBBON = rgb("#E4405C")
EYES = ((206.0, 270.0), (306.0, 270.0))
MOUTH = MouthStyle(
    cx=256, cy=332, scale=1.05, line=rgb("#8A3A45"), width=3.0, inside=rgb("#A93A4E"),
    tongue=rgb("#F48A99"), teeth=rgb("#FFFFFF"), lips=rgb("#F7B3B8"),
)


def layers() -> dict[str, Layer]:
    moods = mood_eyes(_open_eye, EYES, 24, 22, LASH, 5)
    return {"base": _base(), **_eyes(), **moods, **_brows(), **draw_mouths(MOUTH), "front": _front()}


def _face_outline() -> list[Point]:
    left = bezier((168, 196), (166, 292), (206, 352), (256, 374))
    right = bezier((256, 374), (306, 352), (346, 292), (344, 196))
    top = bezier((344, 196), (344, 120), (168, 120), (168, 196))
    return left + right[1:] + top[1:-1]


def _base() -> Layer:
    back = _back_hair()
    body = _uniform()
    # Slender, narrowing under the jaw and widening towards the shoulders, in the jaw's shadow.
    outline = bezier((235, 330), (237, 360), (235, 384), (222, 406)) + bezier((290, 406), (277, 384), (275, 360),
                                                                               (277, 330))
    neck = Layer().shape(outline, SKIN, SKIN_LINE, 2.5)
    shadow = Layer().polygon(through((226, 350), (256, 392), (286, 350)) + [(286, 320), (226, 320)], SKIN_SHADE)
    neck.over(shadow.clip(Layer().polygon(outline, SKIN)))
    face = Layer().shape(_face_outline(), SKIN, SKIN_LINE, 2.5)
    blush = Layer().ellipse(196, 312, 22, 9, rgb("#FF8FA8")).ellipse(316, 312, 22, 9, rgb("#FF8FA8"))
    blush = blush.blurred(4).fade(0.6)
    for x in (186, 196, 206, 306, 316, 326):
        blush.line([(x + 3, 306), (x - 3, 316)], rgb("#F77D98", 200), 1.6)
    face.over(blush).line([(259, 306), (256, 312)], SKIN_LINE, 2)
    return compose(back, body, neck, face, _side_locks(), _bangs(), _blossom(170, 142))


def _back_hair() -> Layer:
    outline = (
        bezier((168, 250), (100, 80), (412, 80), (344, 250))
        + [(352, 300), (372, 372), (402, 452), (372, 430), (356, 470), (330, 420)]
        + [(182, 420), (156, 470), (140, 430), (110, 452), (140, 372), (160, 300)]
    )
    return Layer().shape(outline, HAIR_BACK, LINE, 3)


def _uniform() -> Layer:
    body = (bezier((280, 392), (360, 398), (412, 424), (426, 540))
            + bezier((86, 540), (100, 424), (152, 398), (232, 392)))
    layer = Layer().shape(body, rgb("#F8F8FC"), rgb("#4A4668"), 3)
    for side in (-1, 1):
        collar = [(256 + side * 26, 392), (256 + side * 140, 424), (256 + side * 124, 452), (256, 470)]
        layer.shape(collar, NAVY, rgb("#1E2550"), 3)
        layer.line([(256 + side * 34, 404), (256 + side * 126, 432)], WHITE, 3)
    for side in (-1, 1):
        layer.shape([(256, 440), (256 + side * 30, 424), (256 + side * 34, 454)], RIBBON, rgb("#8E1F35"), 2.5)
        layer.shape([(256 + side * 4, 444), (256 + side * 20, 486), (256 + side * 6, 490)], RIBBON, rgb("#8E1F35"), 2.5)
    return layer.ellipse(256, 442, 8, 8, rgb("#8E1F35")).ellipse(256, 442, 6, 6, RIBBON)


def _bangs() -> Layer:
    # Strand tips (x, y) from the left temple to the right, with the notches between them.
    tips = [(160, 268), (188, 216), (214, 236), (236, 206), (252, 242), (274, 208), (300, 232), (322, 212), (352, 268)]
    notches = [(176, 196), (202, 184), (224, 174), (244, 180), (264, 176), (288, 180), (310, 186), (338, 198)]
    edge: list[Point] = [tips[0]]
    for i, notch in enumerate(notches):
        edge += through(edge[-1], ((edge[-1][0] + notch[0]) / 2 + 2, (edge[-1][1] + notch[1]) / 2), notch, n=8)[1:]
        nxt = tips[i + 1]
        edge += through(notch, ((notch[0] + nxt[0]) / 2 - 2, (notch[1] + nxt[1]) / 2 + 4), nxt, n=8)[1:]
    cap = bezier((352, 268), (372, 60), (140, 60), (160, 268))[1:-1]
    mask = Layer().polygon(edge + cap, HAIR)
    hair = gradient(mask, rgb("#F7B3CB"), HAIR, 90, 220)
    ring = Layer().polygon(taper(through((170, 160), (256, 124), (342, 160)), 20, 0.1, 0.1), HAIR_SHINE)
    for x in (200, 228, 282, 312):  # the shine breaks where strands part
        ring.polygon([(x - 4, 100), (x + 4, 100), (x + 8, 180), (x, 180)], HAIR)
    hair.over(ring.clip(mask))
    for x0, x1 in ((214, 206), (250, 246), (296, 302)):
        hair.line(through((x0, 120), (x0 + (x1 - x0) / 2 - 6, 160), (x1, 196)), HAIR_BACK, 2)
    return hair.line(edge + cap, LINE, 3, closed=True)


def _side_locks() -> Layer:
    layer = Layer()
    for side in (-1, 1):
        x = 256 + side * 86
        spine = bezier((x, 214), (x + side * 6, 280), (x - side * 12, 350), (x + side * 14, 446))
        layer.shape(taper(spine, 34, 1.0, 0.0), HAIR, LINE, 3)
        short = bezier((x - side * 6, 240), (x - side * 10, 300), (x - side * 20, 340), (x - side * 12, 392))
        layer.shape(taper(short, 16, 1.0, 0.0), HAIR, LINE, 2.5)
        layer.line(bezier((x + side * 4, 230), (x + side * 6, 290), (x - side * 4, 350), (x + side * 8, 410)),
                   HAIR_BACK, 2)
    return layer


def _blossom(cx: float, cy: float) -> Layer:
    layer = Layer()
    for i in range(5):
        a = -math.pi / 2 + i * 2 * math.pi / 5
        tip = (cx + 24 * math.cos(a), cy + 24 * math.sin(a))
        left = (cx + 18 * math.cos(a - 0.5), cy + 18 * math.sin(a - 0.5))
        right = (cx + 18 * math.cos(a + 0.5), cy + 18 * math.sin(a + 0.5))
        notch = (cx + 18 * math.cos(a), cy + 18 * math.sin(a))
        petal = [(cx, cy), *through((cx, cy), left, tip, n=8), notch, *through(tip, right, (cx, cy), n=8)]
        layer.shape(petal, rgb("#FFE3EC"), rgb("#D0557E"), 2.2)
    return layer.ellipse(cx, cy, 6, 6, rgb("#F2668F")).ellipse(cx - 1.5, cy - 1.5, 2, 2, rgb("#FFF2A8"))


def _eye_parts(cx: float, cy: float, side: int) -> tuple[list[Point], list[Point]]:
    """Upper lash curve (inner → outer corner) and the white of the eye."""
    upper = through((cx - side * 24, cy - 6), (cx + side * 2, cy - 25), (cx + side * 28, cy - 13))
    lower = through((cx + side * 26, cy - 6), (cx + side * 4, cy + 24), (cx - side * 23, cy + 4))
    return upper, upper + lower


def _open_eye(cx: float, cy: float, side: int) -> Layer:
    upper, white = _eye_parts(cx, cy, side)
    mask = Layer().polygon(white, WHITE)
    eye = Layer().polygon(white, WHITE)
    ring = Layer().ellipse(cx + side * 2, cy + 2, 18, 23, LASH)
    iris = gradient(Layer().ellipse(cx + side * 2, cy + 2, 16, 21, WHITE), rgb("#4E2470"), rgb("#C98CF0"),
                    cy - 18, cy + 20)
    iris.ellipse(cx + side * 2, cy - 1, 7.5, 11, rgb("#2B1140"))
    glints = Layer().ellipse(cx - 6, cy - 9, 6.5, 8, WHITE).ellipse(cx + 8, cy + 10, 3, 3, WHITE)
    glints.ellipse(cx + side * 2, cy + 16, 9, 3.5, rgb("#F0D2FF", 170))
    eye.over(ring).over(iris).over(glints).clip(mask)
    eye.polygon(taper(upper + [(cx + side * 36, cy - 20)], 7.5, 0.5, 0.2), LASH)
    return eye.line(through((cx + side * 25, cy - 2), (cx + side * 16, cy + 14), (cx + side * 2, cy + 22)), LASH, 1.8)


def _eyes() -> dict[str, Layer]:
    opened, half, closed = Layer(), Layer(), Layer()
    for (cx, cy), side in zip(EYES, (-1, 1)):
        opened.over(_open_eye(cx, cy, side))
        lid = through((cx - side * 26, cy + 2), (cx + side * 2, cy - 6), (cx + side * 30, cy - 2))
        below = Layer().polygon(lid + [(cx + side * 40, cy + 40), (cx - side * 40, cy + 40)], WHITE)
        half.over(_open_eye(cx, cy, side).clip(below))
        half.polygon(taper(lid + [(cx + side * 38, cy - 8)], 7, 0.5, 0.2), LASH)
        shut = through((cx - side * 24, cy + 2), (cx + side * 2, cy + 12), (cx + side * 28, cy))
        closed.polygon(taper(shut + [(cx + side * 36, cy - 6)], 6, 0.4, 0.2), LASH)
    return {"eyes_open": opened, "eyes_half": half, "eyes_closed": closed}


#: (outer end, middle, inner end) heights of each brow relative to its resting line.
BROWS = {
    "neutral": (3, -2, 1),
    "happy": (2, -7, -1),
    "sad": (6, -2, -9),
    "surprised": (-8, -15, -7),
    "angry": (-6, 0, 9),
}


def _brows() -> dict[str, Layer]:
    out = {}
    for expression, (outer, mid, inner) in BROWS.items():
        layer = Layer()
        for (cx, cy), side in zip(EYES, (-1, 1)):
            y = cy - 44
            stroke = through((cx - side * 20, y + inner), (cx + side * 2, y + mid), (cx + side * 24, y + outer))
            layer.polygon(taper(stroke, 5, 0.8, 0.2), LINE)
        out[f"brows_{expression}"] = layer
    return out


def _front() -> Layer:
    """Loose strands that fall over the eyes: drawn above every other layer."""
    layer = Layer()
    for top, mid, tip, w in (((240, 190), (250, 228), (247, 258), 9), ((326, 196), (334, 228), (346, 262), 8)):
        layer.shape(taper(through(top, mid, tip), w, 1.0, 0.05), HAIR, LINE, 2)
    return layer
