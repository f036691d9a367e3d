"""A sprite set: the layered PNGs of a persona (see personas/README.md), and their checks.

Layers are RGBA PNGs of one square size, drawn in place on a transparent canvas and
stacked in this order: background, base, eyes, brows, mouth, front. A mood may have its own
open eyes (``eyes_open_sad``) and resting mouth (``mouth_rest_sad``).
"""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image

from engine.types import Expression, Viseme

BACKGROUND_FILE = "background.png"
REQUIRED_LAYERS = ("base", "eyes_open", "eyes_closed", "mouth_rest")
#: Moods that may have their own open eyes and resting mouth (neutral is plain ``eyes_open``, ``mouth_rest``).
MOODS = tuple(e.value for e in Expression if e is not Expression.NEUTRAL)
OPTIONAL_LAYERS = (
    "eyes_half",
    *(f"eyes_open_{mood}" for mood in MOODS),
    *(f"brows_{e.value}" for e in Expression),
    *(f"mouth_{v.value}" for v in Viseme if v is not Viseme.REST),
    *(f"mouth_rest_{mood}" for mood in MOODS),
    "front",
)
#: A missing mouth falls back along this chart until a drawn one is found (rest always is).
MOUTH_FALLBACK: dict[Viseme, Viseme] = {
    Viseme.MBP: Viseme.REST,
    Viseme.FV: Viseme.MBP,
    Viseme.AI: Viseme.REST,
    Viseme.E: Viseme.AI,
    Viseme.O: Viseme.AI,
    Viseme.U: Viseme.O,
    Viseme.WQ: Viseme.U,
    Viseme.ETC: Viseme.E,
    Viseme.L: Viseme.ETC,
}
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_CONVERTIBLE = frozenset({"1", "L", "LA", "P", "PA", "RGB", "RGBA", "I", "I;16", "I;16B"})


def is_hex_colour(value: str) -> bool:
    return bool(_HEX.match(value))


def check_sprite_dir(sprite_dir: Path) -> None:
    """Raise ``ValueError`` naming the file if ``sprite_dir`` is not a usable sprite set."""
    if not sprite_dir.is_dir():
        raise ValueError(f"{sprite_dir}: the sprite folder is missing")
    missing = [f"{n}.png" for n in REQUIRED_LAYERS if not (sprite_dir / f"{n}.png").is_file()]
    if missing:
        raise ValueError(f"{sprite_dir}: missing required layer(s): {', '.join(missing)}")
    size = _probe(sprite_dir / "base.png")
    if size[0] != size[1] or size[0] < 64:
        raise ValueError(f"{sprite_dir / 'base.png'}: layers must be square and at least 64×64, "
                         f"got {size[0]}×{size[1]}")
    for name in (*REQUIRED_LAYERS[1:], *OPTIONAL_LAYERS):
        path = sprite_dir / f"{name}.png"
        if path.is_file() and (got := _probe(path)) != size:
            raise ValueError(
                f"{path}: is {got[0]}×{got[1]} but base.png is {size[0]}×{size[1]}; all layers must be the same size"
            )
    if (sprite_dir / BACKGROUND_FILE).is_file():
        _probe(sprite_dir / BACKGROUND_FILE)


def _probe(path: Path) -> tuple[int, int]:
    """Size of a layer, after checking it is an intact PNG that converts to RGBA (no decoding)."""
    try:
        with Image.open(path) as image:
            if image.format != "PNG":
                raise ValueError(f"{path}: is {image.format}, not a PNG")
            if image.mode not in _CONVERTIBLE:
                raise ValueError(f"{path}: has pixel mode {image.mode}, which does not convert to RGBA")
            image.verify()  # chunk checksums: catches truncated or corrupted files cheaply
            return image.size
    except ValueError:
        raise
    except Exception as error:  # Pillow raises many types for broken or exotic files
        raise ValueError(f"{path}: cannot be read as a PNG ({error})") from error


def open_layer(path: Path) -> Image.Image:
    try:
        with Image.open(path) as image:
            return image.convert("RGBA")
    except Exception as error:
        raise ValueError(f"{path}: cannot be read as an RGBA PNG ({error})") from error


def mouth_layer(viseme: Viseme, available: set[str], expression: Expression = Expression.NEUTRAL) -> str:
    """The layer drawn for ``viseme``: its own, or the first one drawn along ``MOUTH_FALLBACK``;
    at rest, the mood's own resting mouth when there is one."""
    while f"mouth_{viseme.value}" not in available and viseme is not Viseme.REST:
        viseme = MOUTH_FALLBACK[viseme]
    if viseme is Viseme.REST and f"mouth_rest_{expression.value}" in available:
        return f"mouth_rest_{expression.value}"
    return f"mouth_{viseme.value}"


def open_eyes_layer(expression: Expression, available: set[str]) -> str:
    """The open eyes of a mood: its own layer when there is one, else ``eyes_open``."""
    return name if (name := f"eyes_open_{expression.value}") in available else "eyes_open"
