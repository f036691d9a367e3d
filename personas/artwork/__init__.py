"""Draws the built-in personas' sprite sets: ``python -m personas.artwork`` regenerates them."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from personas.artwork import friendly, neon, sakura
from personas.artwork.common import save_layers
from personas.registry import BUILTIN_DIR

#: Each module has NAME, VIEW (the square of its drawing the sprites show), TOML and layers().
PERSONAS: tuple[ModuleType, ...] = (friendly, sakura, neon)


def generate(out_dir: Path = BUILTIN_DIR) -> list[Path]:
    """Write ``<out_dir>/<name>/persona.toml`` and its ``sprite/`` layers for every built-in."""
    folders = []
    for module in PERSONAS:
        folder = out_dir / module.NAME
        save_layers(folder / "sprite", module.layers(), module.VIEW)
        (folder / "persona.toml").write_text(module.TOML, encoding="utf-8")
        folders.append(folder)
    return folders
