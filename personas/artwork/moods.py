"""What a mood does to the eyes, besides the brows: lids that smile, droop or glare, and eyes
wide open in surprise, made from any persona's own open eye. (Its resting mouth: ``mouths``.)"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from personas.artwork.common import Colour, Layer, Point, rgb, scaled_about, through

#: An eye drawer: (centre x, centre y, side) → the open eye; side is -1 for the left eye, 1 for the right.
EyeDrawer = Callable[[float, float, int], Layer]
SURPRISE = 1.18  # how much wider surprised eyes open
_KEEP = rgb("#FFFFFF")


def mood_eyes(draw: EyeDrawer, eyes: Sequence[Point], rx: float, ry: float, line: Colour,
              width: float) -> dict[str, Layer]:
    """``eyes_open_<mood>`` layers from the persona's open eye (``rx``, ``ry``: its half size)."""
    out = {}
    for mood in ("happy", "sad", "angry"):
        layer = Layer()
        for (cx, cy), side in zip(eyes, (-1, 1)):
            keep, lid = _lid(mood, cx, cy, side, rx, ry)
            layer.over(draw(cx, cy, side).clip(Layer().polygon(keep, _KEEP)))
            layer.line(lid, line, width)
        out[f"eyes_open_{mood}"] = layer
    wide = Layer()
    for (cx, cy), side in zip(eyes, (-1, 1)):
        wide.over(scaled_about(draw(cx, cy, side), cx, cy, SURPRISE))
    out["eyes_open_surprised"] = wide
    return out


def _lid(mood: str, cx: float, cy: float, side: int, rx: float, ry: float) -> tuple[list[Point], list[Point]]:
    """The part of the eye left showing, and the lid's line."""
    inner, outer = cx - side * rx * 1.25, cx + side * rx * 1.25
    if mood == "happy":  # the cheeks push the lower lids up into arches
        cut = through((cx - rx * 1.6, cy + ry * 0.9), (cx, cy - ry * 0.3), (cx + rx * 1.6, cy + ry * 0.9))
        lid = through((cx - rx * 1.05, cy + ry * 0.35), (cx, cy - ry * 0.3), (cx + rx * 1.05, cy + ry * 0.35))
        return cut + [(cx + 3 * rx, cy - 3 * ry), (cx - 3 * rx, cy - 3 * ry)], lid
    if mood == "sad":  # upper lids droop towards the outer corners
        lid = through((inner, cy - ry * 0.95), (cx, cy - ry * 0.5), (outer, cy - ry * 0.05))
    else:  # angry: upper lids come down towards the nose in a glare
        lid = through((inner, cy - ry * 0.05), (cx, cy - ry * 0.5), (outer, cy - ry * 0.95))
    return lid + [(outer + side * rx, cy + 3 * ry), (inner - side * rx, cy + 3 * ry)], lid
