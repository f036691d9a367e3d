"""``--renderer`` (CLI and chat): checked before any work, so a renderer nobody set up says how to."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.agent import Agent


def renderer_problem(agent: Agent, wanted: str | None) -> str | None:
    """Why ``wanted`` can't draw a render here (unknown, or its model not configured); ``None`` when it can."""
    if wanted is None:
        return None
    available = agent.engine_backends.renderer
    if wanted not in available:
        return f"There is no renderer called {wanted!r}; there are: {', '.join(sorted(available))}."
    if wanted == "wav2lip" and agent.config.models.lipsync is None:
        from engine.lipsync.backend import SETUP

        return SETUP
    return None
