"""``--renderer`` (CLI and chat): checked before any work, so a renderer nobody set up says how to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.settings import ModelSettings


def renderer_problem(renderers: Mapping[str, object], models: ModelSettings, wanted: str | None) -> str | None:
    """Why ``wanted`` can't draw a render here (unknown among ``renderers``, or its model not in ``models``);
    ``None`` when it can."""
    if wanted is None:
        return None
    if wanted not in renderers:
        return f"There is no renderer called {wanted!r}; there are: {', '.join(sorted(renderers))}."
    if wanted == "wav2lip" and models.lipsync is None:
        from engine.face.backends import WAV2LIP_SETUP

        return WAV2LIP_SETUP
    return None
